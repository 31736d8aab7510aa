"""ArcFace 5-point alignment (least-squares similarity / Umeyama), numpy + OpenCV warp."""
from __future__ import annotations

import numpy as np

ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 similarity transform M minimising ||M [src;1] - dst||^2 (Umeyama 1991)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s0, d0 = src - mu_s, dst - mu_d
    cov = d0.T @ s0 / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(2)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[1, 1] = -1
    R = U @ D @ Vt
    var_s = (s0 ** 2).sum() / len(src)
    scale = np.trace(np.diag(S) @ D) / var_s
    t = mu_d - scale * R @ mu_s
    return np.hstack([scale * R, t[:, None]])


def align_face(img: np.ndarray, five_points, size: int = 224) -> np.ndarray:
    """Warp `img` (H,W,C uint8) so the 5 points (left eye, right eye, nose tip, left mouth,
    right mouth; image x order) land on the ArcFace template scaled to `size`."""
    import cv2

    M = umeyama(np.asarray(five_points, np.float64), ARCFACE_112 * (size / 112.0))
    return cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
