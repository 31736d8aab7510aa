"""face-api.js FaceRecognitionNet (dlib ResNet-29 metric net, 150x150 -> 128) in torch,
mirroring @vladmandic/face-api src/faceRecognitionNet/*.ts. Used only for the candidate
comparison (weights are uint8-quantised in the npm package)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_BLOCKS = ["conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1", "conv64_2", "conv64_3",
           "conv128_down", "conv128_1", "conv128_2", "conv256_down", "conv256_1", "conv256_2", "conv256_down_out"]


class DlibResNet(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.p = nn.ParameterDict()
        for k, v in w.items():
            t = torch.from_numpy(np.ascontiguousarray(v)).float()
            if t.dim() == 4:
                t = t.permute(3, 2, 0, 1).contiguous()
            self.p[k.replace("/", "__")] = nn.Parameter(t, requires_grad=False)

    def _conv(self, x, pre, stride, relu):
        g = lambda s: self.p[(pre + s).replace("/", "__")]
        w = g("/conv/filters")
        if stride == 1:  # 'same' (odd kernel -> symmetric)
            y = F.conv2d(x, w, g("/conv/bias"), 1, w.shape[-1] // 2)
        else:  # 'valid'
            y = F.conv2d(x, w, g("/conv/bias"), stride, 0)
        y = y * g("/scale/weights").view(1, -1, 1, 1) + g("/scale/biases").view(1, -1, 1, 1)
        return F.relu(y) if relu else y

    def features(self, x255):
        mean = torch.tensor([122.782, 117.001, 104.298], device=x255.device).view(1, 3, 1, 1)
        x = (x255 - mean) / 255.0
        x = self._conv(x, "conv32_down", 2, True)
        x = F.max_pool2d(x, 3, 2)
        feats = []
        for b in _BLOCKS:
            if "down" in b:
                out = self._conv(x, b + "/conv1", 2, True)
                out = self._conv(out, b + "/conv2", 1, False)
                pooled = F.avg_pool2d(x, 2, 2)
                if pooled.shape[2] != out.shape[2] or pooled.shape[3] != out.shape[3]:
                    out = F.pad(out, (0, 1, 0, 1))
                if pooled.shape[1] != out.shape[1]:
                    pooled = torch.cat([pooled, torch.zeros_like(pooled)], 1)
                x = F.relu(pooled + out)
            else:
                out = self._conv(x, b + "/conv1", 1, True)
                out = self._conv(out, b + "/conv2", 1, False)
                x = F.relu(out + x)
            feats.append(x)
        return x, feats

    def forward(self, x255):
        x, _ = self.features(x255)
        return x.mean((2, 3)) @ self.p["fc"]
