"""ArcFace IR-SE (IR-SE-101 with layers=[3,4,23,3]) in PyTorch, as the identity encoder.

Module names equal the official `arcface.pdparams` keys (conv1, bn1, prelu, maxpool,
layer1..4 of IRBlock{bn0, conv1, bn1, prelu, conv2, bn2, se.fc.{0,1,2}, downsample.{0,1}},
bn2, fc, bn3), so `convert.py` maps the checkpoint 1:1 (BN stat names and Linear transposes
aside). Layer by layer from ../shared/docs/mobilefaceswap.md (from the repo root):

  stem: conv1 3->64 3x3 stride 1 NO padding (112 -> 110), bn1, prelu, maxpool 2x2 (-> 55)
  IRBlock: bn0, conv1 3x3, bn1, prelu, conv2 3x3 (stride), bn2, SE; + residual
           (downsample = 1x1 conv stride + BN when the shape changes), then the SAME prelu
  stages: 64 (55), 128 (28), 256 (14), 512 (7); then bn2 -> the 512x7x7 feature map;
  fc 25088 -> 512 on the (C, H, W)-flattened map, bn3 (BatchNorm1D) -> embedding.

As an `IdentityEncoder` it takes the aligned 224 RGB [0,1] face and does the official source
preprocessing inside (resize to 112, ImageNet mean/std; the official BGR->RGB swap is
already done by our RGB input), returning (L2-normalised embedding, feature map).
"""
from typing import Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from idn.encoder import IdentityEncoder, arcface_preprocess

IR_SE_101 = (3, 4, 23, 3)
BN_EPS = 1e-5       # Paddle's BatchNorm default, which the official model runs with
SE_REDUCTION = 16


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS)


class SEBlock(nn.Module):
    def __init__(self, channels: int, reduction: int = SE_REDUCTION):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.PReLU(),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]


class IRBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.bn0 = _bn(inplanes)
        self.conv1 = nn.Conv2d(inplanes, inplanes, 3, padding=1, bias=False)
        self.bn1 = _bn(inplanes)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = _bn(planes)
        self.se = SEBlock(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        out = self.se(self.bn2(self.conv2(out)))
        residual = x if self.downsample is None else self.downsample(x)
        return self.prelu(out + residual)


class IRSEArcFace(IdentityEncoder):
    """forward(face_224_rgb_01) -> (embedding [B,512] L2-normalised, feature_map [B,512,7,7])."""

    def __init__(self, layers: Sequence[int] = IR_SE_101):
        super().__init__()
        self.layers = tuple(layers)
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=0, bias=False)
        self.bn1 = _bn(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2d(2, 2)
        inplanes = 64
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), self.layers)):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes:
                downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), _bn(planes))
            stage = [IRBlock(inplanes, planes, stride, downsample)]
            stage += [IRBlock(planes, planes) for _ in range(1, blocks)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
            inplanes = planes
        self.bn2 = _bn(512)
        self.fc = nn.Linear(512 * 7 * 7, 512)
        self.bn3 = nn.BatchNorm1d(512, eps=BN_EPS)

    def embed_112(self, x112: Tensor) -> Tuple[Tensor, Tensor]:
        """The network proper on a preprocessed 112 input: (raw embedding, feature map)."""
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x112))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        feature_map = self.bn2(x)
        embedding = self.bn3(self.fc(feature_map.flatten(1)))
        return embedding, feature_map

    def forward(self, face_224_rgb_01: Tensor) -> Tuple[Tensor, Tensor]:
        embedding, feature_map = self.embed_112(arcface_preprocess(face_224_rgb_01))
        return F.normalize(embedding, dim=1), feature_map
