"""Scores every teacher swap for the paper's loss reweighting: its identity cosine to the
source (the training encoder's own descriptor) and its landmark fit to the target (the
app's FaceLandmarker run on the teacher output, NME over the 478 points / inter-ocular).

  python -m train.quality [--set DIR]   → DIR/quality.npz (cos, nme, weight per pair)

weight: KD pairs get clip(1 + 0.5 (z(cos) - z(nme)), 0.25, 2), renormalised to mean 1;
a teacher output with no face found gets the floor; reconstruction pairs get 1.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

import cv2
import numpy as np
import torch

from identity_encoder.adapter import OfflineIdentityEncoder

from .build_set import DEFAULT_OUT
from .faces import load

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTER_EYE = (33, 263)


def nme(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Mean point distance over inter-ocular distance, per row; NaN where pred is NaN."""
    iod = np.linalg.norm(ref[:, OUTER_EYE[0]] - ref[:, OUTER_EYE[1]], axis=-1)
    return np.linalg.norm(pred - ref, axis=-1).mean(-1) / iod


def weights_from(cos: np.ndarray, err: np.ndarray) -> np.ndarray:
    ok = np.isfinite(err)
    z = lambda v: (v - v[ok].mean()) / (v[ok].std() + 1e-8)
    w = np.full(cos.shape, 0.25)
    w[ok] = np.clip(1 + 0.5 * (z(cos)[ok] - z(np.where(ok, err, 0))[ok]), 0.25, 2.0)
    return w / w.mean()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(2)
    faces = load()
    pairs = np.load(os.path.join(args.set, "pairs.npy"))
    t224 = np.load(os.path.join(args.set, "teacher224.npy"), mmap_mode="r")
    kd = np.nonzero(pairs[:, 2] == 1)[0]

    with tempfile.TemporaryDirectory() as tmp:
        for j, i in enumerate(kd):
            cv2.imwrite(os.path.join(tmp, f"{j:06d}.png"), cv2.cvtColor(np.asarray(t224[i]), cv2.COLOR_RGB2BGR))
        out = os.path.join(args.set, "teacher_landmarks.f32")
        subprocess.run(["pnpm", "exec", "tsx", "scripts/face/landmarksCli.ts", tmp, out], cwd=REPO, check=True)
    found = np.fromfile(out, "<f4").reshape(len(kd), 478, 2).astype(np.float64)
    ref = np.stack([faces.landmarks(int(pairs[i, 1]), 224) for i in kd])
    err = nme(found, ref)

    encoder = OfflineIdentityEncoder().eval()
    cos = np.zeros(len(kd))
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        for s in range(0, len(kd), 32):
            rows = kd[s:s + 32]
            a = encoder.raw_embedding(to_t(np.stack([t224[i] for i in rows])))
            b = encoder.raw_embedding(to_t(np.stack([faces.crops224[pairs[i, 0]] for i in rows])))
            cos[s:s + 32] = (a * b).sum(1).numpy()
    weight = np.ones(len(pairs))
    weight[kd] = weights_from(cos, err)
    full_cos, full_nme = np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    full_cos[kd], full_nme[kd] = cos, err
    np.savez(os.path.join(args.set, "quality.npz"), cos=full_cos, nme=full_nme, weight=weight)
    print(f"teacher quality over {len(kd)} swaps: identity cos mean {cos.mean():.3f}, "
          f"NME median {np.nanmedian(err):.4f}, no face {int((~np.isfinite(err)).sum())}; "
          f"weights {weight[kd].min():.2f}..{weight[kd].max():.2f}")


if __name__ == "__main__":
    main()
