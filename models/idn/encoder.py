"""The identity encoder interface the IIM consumes, and a random stand-in for mechanics tests.

The real encoder (ArcFace IR-SE-101 in the paper, or an adapter with projections
around another face-recognition model) plugs in by subclassing IdentityEncoder.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EMBEDDING_DIM = 512
FEATURE_MAP_SHAPE = (512, 7, 7)
SOURCE_CROP = 224
RECOGNITION_INPUT = 112
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def arcface_preprocess(face_224_rgb_01: Tensor) -> Tensor:
    """The official source preprocessing: 224 aligned crop → 112, ImageNet mean/std.

    Bilinear with half-pixel centres at exactly ×0.5 is a 2×2 mean, which is what
    cv2.resize(INTER_LINEAR) gives too.
    """
    x = F.interpolate(face_224_rgb_01, size=(RECOGNITION_INPUT, RECOGNITION_INPUT), mode="bilinear",
                      align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


class IdentityEncoder(nn.Module):
    """forward(face_224_rgb_01 [B,3,224,224]) -> (embedding [B,512] L2-normalised,
    feature_map [B,512,7,7]).

    The face is aligned to the 224 ArcFace-style template, RGB, in [0, 1].
    """

    def forward(self, face_224_rgb_01: Tensor) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError


class RandomIdentityEncoder(IdentityEncoder):
    """NOT a face-recognition model: a tiny conv net with random weights and the
    right output shapes, deterministic for a seed. For mechanics tests only."""

    def __init__(self, seed: int = 0):
        super().__init__()
        # Own RNG stream: the same seed gives the same weights whatever ran before.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.LeakyReLU(0.1),  # 56
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.LeakyReLU(0.1),  # 28
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.1),  # 14
                nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.1),  # 7
                nn.Conv2d(64, FEATURE_MAP_SHAPE[0], 1),
            )
            self.embedding_head = nn.Linear(FEATURE_MAP_SHAPE[0], EMBEDDING_DIM)

    def forward(self, face_224_rgb_01: Tensor) -> Tuple[Tensor, Tensor]:
        feature_map = self.features(arcface_preprocess(face_224_rgb_01))
        embedding = self.embedding_head(feature_map.mean(dim=(2, 3)))
        return F.normalize(embedding, dim=1), feature_map
