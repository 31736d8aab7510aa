"""OfflineIdentityEncoder: the IIM's identity encoder built on the converted FaceRes backbone.

forward(face_224_rgb_01 [B,3,224,224] RGB in [0,1], aligned to the ArcFace 5-point template
scaled x2) -> (emb [B,512] L2-normalised, fmap [B,512,7,7])

* backbone: frozen HSE-FaceRes MobileNet converted from @vladmandic/human@3.3.6 (MIT), see
  MODEL_CARD.md. Takes raw 0..255 RGB at 224x224 (no mean/std), so the adapter only
  multiplies by 255 (and resizes if given another size).
* emb: Linear(1024 -> 512) on the backbone's pooled 1024-d descriptor, then L2 norm.
  Initialised as an orthonormal-row projection (zero bias) so that, before any training,
  cosines between faces are close to the backbone's own.
* fmap: 1x1 conv (1024 -> 512) on the backbone's last spatial layer (conv_pw_13, 7x7 at
  224 input), then adaptive average pool to 7x7.
* raw_embedding(face): the backbone's own 1024-d descriptor, L2-normalised: use it for the
  identity loss and separation measurements (it has no learnable part).

Gradients flow through the frozen backbone to the input image (for the identity loss);
backbone parameters have requires_grad=False and it always stays in eval mode.
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .faceres import EMBED_DIM, FMAP_CHANNELS, INPUT_SIZE, ONNX_PATH, load_faceres_torch

try:  # the IDN's interface class, when models/ is on sys.path (it is a plain nn.Module subclass)
    from idn.encoder import IdentityEncoder as _Base  # type: ignore
except Exception:  # pragma: no cover - keep this package usable on its own
    _Base = nn.Module

OUT_DIM = 512
FMAP_SIZE = 7


class OfflineIdentityEncoder(_Base):
    def __init__(self, onnx_path: str = ONNX_PATH, out_dim: int = OUT_DIM, fmap_size: int = FMAP_SIZE):
        super().__init__()
        self.backbone = load_faceres_torch(onnx_path, trainable=False)
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.embed_proj = nn.Linear(EMBED_DIM, out_dim)
        self.fmap_proj = nn.Conv2d(FMAP_CHANNELS, out_dim, kernel_size=1)
        self.fmap_size = fmap_size
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            q, _ = torch.linalg.qr(torch.randn(EMBED_DIM, out_dim, generator=g))  # orthonormal columns
            self.embed_proj.weight.copy_(q.T)
            self.embed_proj.bias.zero_()

    def train(self, mode: bool = True):
        super().train(mode)
        self.backbone.eval()  # frozen: never in training mode
        return self

    def backbone_input(self, face_224_rgb_01: Tensor) -> Tensor:
        x = face_224_rgb_01
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return x * 255.0

    def backbone_features(self, face_224_rgb_01: Tensor) -> Tuple[Tensor, Tensor]:
        """(pooled descriptor [B,1024] >= 0, spatial map [B,1024,7,7])."""
        return self.backbone(self.backbone_input(face_224_rgb_01))

    def raw_embedding(self, face_224_rgb_01: Tensor) -> Tensor:
        """The backbone's own descriptor, L2-normalised [B,1024] (identity loss / measurements)."""
        emb, _ = self.backbone_features(face_224_rgb_01)
        return F.normalize(emb, dim=1)

    def forward(self, face_224_rgb_01: Tensor) -> Tuple[Tensor, Tensor]:
        emb, fmap = self.backbone_features(face_224_rgb_01)
        e = F.normalize(self.embed_proj(emb), dim=1)
        f = self.fmap_proj(fmap)
        if tuple(f.shape[-2:]) != (self.fmap_size, self.fmap_size):  # 224 input is 7×7 already
            f = F.adaptive_avg_pool2d(f, self.fmap_size)  # (and ONNX can't export this op)
        return e, f


def identity_loss(encoder: OfflineIdentityEncoder, swapped_224_rgb_01: Tensor, source_raw_emb: Tensor) -> Tensor:
    """1 - cos(raw_embedding(swapped), source raw embedding), batch mean."""
    return (1.0 - (encoder.raw_embedding(swapped_224_rgb_01) * source_raw_emb).sum(1)).mean()
