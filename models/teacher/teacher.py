"""The offline teacher: a heavier classical swap than the app's `mesh` engine.

  1. the source face mesh-warped onto the target's landmarks (warp.py, the app's mesh);
  2. Lab mean/std colour transfer, statistics from the skin both faces share;
  3. Poisson (seamless) blending into the target, with OpenCV;
  4. the mesh has holes at the eyes and the mouth opening, so the target's own
     eyes (gaze, blinks) and mouth interior pass through untouched.
Works on any image size: full frames (eval) or aligned crops (training data).
"""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

from .warp import polygon_mask, topology, warp_face

# Poisson needs a margin between the mask and the image border.
PAD = 16


def _erode(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.erode(mask, k)


def colour_transfer(warped: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Matches the warped face's Lab mean/std to the target's over `region` (both faces' skin)."""
    if region.sum() < 32:
        return warped
    src_lab = cv2.cvtColor(warped, cv2.COLOR_RGB2LAB).astype(np.float32)
    tgt_lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    sel = region.astype(bool)
    s_mean, s_std = src_lab[sel].mean(0), src_lab[sel].std(0) + 1e-3
    t_mean, t_std = tgt_lab[sel].mean(0), tgt_lab[sel].std(0) + 1e-3
    scale = np.clip(t_std / s_std, 0.5, 2.0)  # a shadowed half-face shouldn't blow contrast up
    out = (src_lab - s_mean) * scale + t_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def skin_region(xy: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mesh coverage minus its rim (hair, background) and the eyes, brows and lips."""
    topo = topology()
    h, w = mask.shape
    size = max(4, int(0.03 * (xy[:, 0].max() - xy[:, 0].min())))
    out = _erode(mask, size)
    for loop in ("leftEye", "rightEye"):
        out = out & (1 - polygon_mask(xy, topo[loop], h, w, dilate=2 * size))
    out = out & (1 - polygon_mask(xy, topo["innerLips"], h, w, dilate=2 * size))
    return out


def teacher_swap(source: np.ndarray, source_xy: np.ndarray, target: np.ndarray, target_xy: np.ndarray,
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """(swapped target RGB uint8, blend mask uint8 {0,1}). Images RGB uint8; xy [478, >=2] pixels."""
    h, w = target.shape[:2]
    src_xy, dst_xy = source_xy[:, :2], target_xy[:, :2]
    warped, mask = warp_face(source, src_xy, dst_xy, h, w)
    warped = colour_transfer(warped, target, skin_region(dst_xy, mask))
    # Eyes and mouth opening: the target's own pixels, inside the blend (a hole in the
    # Poisson mask would give each a boundary and smear dark halos around it).
    topo = topology()
    holes = np.zeros_like(mask)
    for loop in ("leftEye", "rightEye", "innerLips"):
        holes |= polygon_mask(dst_xy, topo[loop], h, w, dilate=1)
    holes &= 1 - mask
    warped[holes.astype(bool)] = target[holes.astype(bool)]
    mask = mask | holes
    # Erode past the bilinear fringe where the warp's black outside leaks in.
    blend = _erode(mask, 2)
    if blend.sum() < 64:
        return target.copy(), blend
    pad = lambda im: cv2.copyMakeBorder(im, PAD, PAD, PAD, PAD, cv2.BORDER_REFLECT)
    src_p, dst_p, m_p = pad(warped), pad(target), pad(blend * 255)
    m_p[:PAD + 1, :] = 0; m_p[-PAD - 1:, :] = 0; m_p[:, :PAD + 1] = 0; m_p[:, -PAD - 1:] = 0
    x, y, bw, bh = cv2.boundingRect(m_p)
    # seamlessClone centres the mask's bounding box on `center`; this keeps it in place.
    center = (x + bw // 2, y + bh // 2)
    cloned = cv2.seamlessClone(cv2.cvtColor(src_p, cv2.COLOR_RGB2BGR), cv2.cvtColor(dst_p, cv2.COLOR_RGB2BGR),
                               m_p, center, cv2.NORMAL_CLONE)
    out = cv2.cvtColor(cloned, cv2.COLOR_BGR2RGB)[PAD:PAD + h, PAD:PAD + w]
    blend = (m_p[PAD:PAD + h, PAD:PAD + w] > 0).astype(np.uint8)
    # OpenCV's solver also touches a thin ring outside the mask: keep the target there.
    return np.where(blend[..., None] > 0, out, target), blend
