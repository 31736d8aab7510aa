"""The prepared face set (models/data/prepare.ts output, ~/.cache/guise/faces-v1) as arrays."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, List

import numpy as np

from teacher.warp import warp_face

DEFAULT_DIR = os.path.join(os.environ.get("GUISE_CACHE", os.path.expanduser("~/.cache/guise")), "faces-v1")


@dataclass
class FaceSet:
    crops224: np.ndarray  # [N, 224, 224, 3] uint8 (memmap)
    crops128: np.ndarray  # [N, 128, 128, 3] uint8 (memmap)
    landmarks224: np.ndarray  # [N, 478, 3] float32, 224-crop pixels
    rows: List[dict]

    def split(self, name: str) -> np.ndarray:
        return np.array([i for i, r in enumerate(self.rows) if r["split"] == name], dtype=np.int64)

    def by_identity(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        out: Dict[str, list] = {}
        for i in indices:
            out.setdefault(self.rows[i]["identity"], []).append(int(i))
        return {k: np.array(v) for k, v in out.items()}

    def landmarks(self, i: int, size: int) -> np.ndarray:
        """478 × 2 landmark pixels in the `size` crop: the crops are one similarity, scaled."""
        return self.landmarks224[i, :, :2].astype(np.float64) * (size / 224.0)

    def guide(self, source: int, target: int, size: int) -> np.ndarray:
        """The guided IDN's extra input [size, size, 4] uint8: photo `source`'s 224 crop
        mesh-warped onto photo `target`'s landmarks in its `size` crop, then the coverage
        mask (0 or 255), as the app builds it per frame."""
        rgb, mask = warp_face(np.asarray(self.crops224[source]), self.landmarks(source, 224),
                              self.landmarks(target, size), size, size)
        return np.concatenate([rgb, mask[..., None] * 255], axis=-1)


def load(path: str = DEFAULT_DIR) -> FaceSet:
    report = json.load(open(os.path.join(path, "report.json")))
    index = json.load(open(os.path.join(path, "index.json")))
    n = report["rows"]
    return FaceSet(
        crops224=np.memmap(os.path.join(path, "crops224.u8"), np.uint8, "r", shape=(n, 224, 224, 3)),
        crops128=np.memmap(os.path.join(path, "crops128.u8"), np.uint8, "r", shape=(n, 128, 128, 3)),
        landmarks224=np.memmap(os.path.join(path, "landmarks.f32"), "<f4", "r", shape=(n, 478, 3)),
        rows=index["rows"],
    )
