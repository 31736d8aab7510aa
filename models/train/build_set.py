"""Builds the training set: for each chosen source photo, K same-identity targets
(reconstruction) and K cross-identity targets with teacher swaps (distillation),
each with the guide (source warped onto the target, 128 crop) the guided IDN takes.

  python -m train.build_set [--sources 800] [--k 4] [--workers 2] [--out DIR]

Writes DIR/{meta.json, pairs.i32 [M,3] (source, target, kind 0=recon 1=kd),
guide128.u8 [M,128,128,4], teacher128.u8 [M,128,128,3] (recon: the target itself),
teacher224.u8 [M,224,224,3] (for quality scoring)}.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from multiprocessing import Pool

import cv2
import numpy as np

from teacher.teacher import teacher_swap

from .faces import DEFAULT_DIR, load

CROP = 128
DEFAULT_OUT = os.path.join(os.path.dirname(DEFAULT_DIR), "idn-train-v1")
_faces = None


def _init(faces_dir):
    global _faces
    _faces = load(faces_dir)


def _make(job):
    src, tgt, kind = job
    f = _faces
    src224 = np.array(f.crops224[src])
    guide4 = f.guide(src, tgt, CROP)
    if kind == 0:
        return guide4, np.array(f.crops128[tgt]), np.array(f.crops224[tgt])
    out224, blend = teacher_swap(src224, f.landmarks224[src], np.array(f.crops224[tgt]), f.landmarks224[tgt])
    # Outside the blend the teacher is the target: take the native 128 crop there, so the
    # student's passthrough isn't asked to reproduce a resampled copy.
    small = cv2.resize(out224, (CROP, CROP), interpolation=cv2.INTER_AREA)
    m = cv2.resize(blend.astype(np.float32), (CROP, CROP), interpolation=cv2.INTER_AREA)[..., None]
    out128 = np.clip(small * m + np.array(f.crops128[tgt]) * (1 - m) + 0.5, 0, 255).astype(np.uint8)
    return guide4, out128, out224


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", default=DEFAULT_DIR)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--sources", type=int, default=800)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    faces = load(args.faces)
    rng = np.random.default_rng(args.seed)
    train = faces.split("train")
    ids = faces.by_identity(train)
    # Sources need K other photos of themselves for the reconstruction targets.
    eligible = [i for rows in ids.values() if len(rows) > args.k for i in rows]
    sources = rng.choice(eligible, size=min(args.sources, len(eligible)), replace=False)
    jobs = []
    for s in sources:
        ident = faces.rows[s]["identity"]
        same = [t for t in ids[ident] if t != s]
        for t in rng.choice(same, size=args.k, replace=False):
            jobs.append((int(s), int(t), 0))
        others = train[[faces.rows[t]["identity"] != ident for t in train]]
        for t in rng.choice(others, size=args.k, replace=False):
            jobs.append((int(s), int(t), 1))
    os.makedirs(args.out, exist_ok=True)
    m = len(jobs)
    guide = np.lib.format.open_memmap(os.path.join(args.out, "guide128.npy"), "w+", np.uint8, (m, CROP, CROP, 4))
    teach = np.lib.format.open_memmap(os.path.join(args.out, "teacher128.npy"), "w+", np.uint8, (m, CROP, CROP, 3))
    t224 = np.lib.format.open_memmap(os.path.join(args.out, "teacher224.npy"), "w+", np.uint8, (m, 224, 224, 3))
    t0 = time.time()
    with Pool(args.workers, initializer=_init, initargs=(args.faces,)) as pool:
        for i, (g, t, big) in enumerate(pool.imap(_make, jobs, chunksize=8)):
            guide[i], teach[i], t224[i] = g, t, big
            if i % 500 == 0:
                print(f"{i}/{m} {time.time() - t0:.0f}s", flush=True)
    for a in (guide, teach, t224):
        a.flush()
    np.save(os.path.join(args.out, "pairs.npy"), np.array(jobs, dtype=np.int32))
    json.dump({"faces": args.faces, "sources": len(sources), "k": args.k, "pairs": m, "seed": args.seed,
               "seconds": round(time.time() - t0, 1)}, open(os.path.join(args.out, "meta.json"), "w"), indent=1)
    print(f"wrote {m} pairs to {args.out} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
