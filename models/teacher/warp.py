"""Piecewise-affine warp of a source face onto a target's landmarks, over the app's
own 852-triangle face mesh (face_topology.json, exported from face/src/mesh.ts).

The definition is exact so the app's TypeScript port can reproduce it:
  * pixel (x, y) has its centre at (x, y) (OpenCV / warpAffine convention);
  * a pixel belongs to a triangle when all three barycentric coordinates of its
    centre, computed in the TARGET triangle, are >= -1e-6; triangles are visited
    in topology order and a later one overwrites an earlier one;
  * its value is the source image sampled bilinearly at the same barycentric
    point of the SOURCE triangle; samples outside the source read as 0;
  * degenerate target triangles (|area| < 1e-9) are skipped.
Output: RGB uint8 (0 outside the mesh) and a {0,1} coverage mask.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Dict, Tuple

import cv2
import numpy as np

TOPOLOGY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "face_topology.json")
INSIDE_EPS = -1e-6


@lru_cache(maxsize=1)
def topology() -> Dict[str, np.ndarray]:
    with open(TOPOLOGY_PATH) as f:
        raw = json.load(f)
    out = {k: np.asarray(v, dtype=np.int32) for k, v in raw.items() if isinstance(v, list)}
    out["triangles"] = out["triangles"].reshape(-1, 3)
    return out


def triangle_map(dst_xy: np.ndarray, height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per pixel: the covering triangle's index (-1 outside) and its barycentrics [H, W, 3]."""
    tris = topology()["triangles"]
    index = np.full((height, width), -1, dtype=np.int32)
    bary = np.zeros((height, width, 3), dtype=np.float64)
    pts = dst_xy.astype(np.float64)
    for t, (i0, i1, i2) in enumerate(tris):
        a, b, c = pts[i0], pts[i1], pts[i2]
        area = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
        if abs(area) < 1e-9:
            continue
        x0 = max(int(np.ceil(min(a[0], b[0], c[0]) - 1e-6)), 0)
        x1 = min(int(np.floor(max(a[0], b[0], c[0]) + 1e-6)), width - 1)
        y0 = max(int(np.ceil(min(a[1], b[1], c[1]) - 1e-6)), 0)
        y1 = min(int(np.floor(max(a[1], b[1], c[1]) + 1e-6)), height - 1)
        if x0 > x1 or y0 > y1:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1, dtype=np.float64), np.arange(y0, y1 + 1, dtype=np.float64))
        # Barycentric weight of vertex a is the area of (p, b, c) over the triangle's, etc.
        wa = ((b[0] - xs) * (c[1] - ys) - (c[0] - xs) * (b[1] - ys)) / area
        wb = ((c[0] - xs) * (a[1] - ys) - (a[0] - xs) * (c[1] - ys)) / area
        wc = 1.0 - wa - wb
        inside = (wa >= INSIDE_EPS) & (wb >= INSIDE_EPS) & (wc >= INSIDE_EPS)
        if not inside.any():
            continue
        sub_index = index[y0:y1 + 1, x0:x1 + 1]
        sub_bary = bary[y0:y1 + 1, x0:x1 + 1]
        sub_index[inside] = t
        sub_bary[inside] = np.stack((wa[inside], wb[inside], wc[inside]), axis=-1)
    return index, bary


def warp_face(src_rgb: np.ndarray, src_xy: np.ndarray, dst_xy: np.ndarray, height: int, width: int
              ) -> Tuple[np.ndarray, np.ndarray]:
    """(warped RGB uint8 [H, W, 3], mask uint8 {0,1} [H, W]): see the module docstring."""
    tris = topology()["triangles"]
    index, bary = triangle_map(dst_xy, height, width)
    mask = (index >= 0)
    safe = np.where(mask, index, 0)
    src = src_xy.astype(np.float64)[tris[safe]]  # [H, W, 3 vertices, 2]
    sample = (bary[..., :, None] * src).sum(axis=2)  # [H, W, 2]
    map_x = np.where(mask, sample[..., 0], -10.0).astype(np.float32)
    map_y = np.where(mask, sample[..., 1], -10.0).astype(np.float32)
    warped = cv2.remap(src_rgb, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    warped[~mask] = 0
    return warped, mask.astype(np.uint8)


def polygon_mask(xy: np.ndarray, loop: np.ndarray, height: int, width: int, dilate: int = 0) -> np.ndarray:
    """uint8 {0,1} mask of the closed contour `loop` (landmark indices)."""
    m = np.zeros((height, width), np.uint8)
    cv2.fillPoly(m, [np.round(xy[loop, :2]).astype(np.int32)], 1)
    if dilate > 0:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1)))
    return m


def _main() -> None:
    """CLI for the TS port's parity test: warp.py SRC.png SRC.json DST.json H W OUT.png OUT_MASK.png
    (landmark JSON: [[x, y], ...] 478 rows)."""
    import sys
    src_path, src_lm, dst_lm, h, w, out_path, mask_path = sys.argv[1:8]
    src = cv2.cvtColor(cv2.imread(src_path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    s = np.asarray(json.load(open(src_lm)), dtype=np.float64)[:, :2]
    d = np.asarray(json.load(open(dst_lm)), dtype=np.float64)[:, :2]
    warped, mask = warp_face(src, s, d, int(h), int(w))
    cv2.imwrite(out_path, cv2.cvtColor(warped, cv2.COLOR_RGB2BGR))
    cv2.imwrite(mask_path, mask * 255)


if __name__ == "__main__":
    _main()
