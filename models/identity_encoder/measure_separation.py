"""Measure identity separation (cosine same vs different person, AUC, EER) on real photos.

    # 1) pairs + image list (seeded), 2) landmarks with the mediapipe venv, 3) measure:
    python -m identity_encoder.measure_separation pairs --out /tmp/sep
    /tmp/mpenv/bin/python identity_encoder/landmarks_mediapipe.py /tmp/sep/lm.json $(cat /tmp/sep/images.txt)
    python -m identity_encoder.measure_separation measure --landmarks /tmp/sep/lm.json --pairs /tmp/sep/pairs.json \
        [--candidates /tmp/idenc]   # optional: also the other npm candidates (extracted packages)

Data: ../shared/data/faces/deepface-pairs/master.csv (all Yes/No pairs) and 300 same + 300
different identity pairs sampled (seed 0) from ../shared/data/faces/celeba-subset. Faces
are aligned to the ArcFace template x2 at 224 (align.py) and fed exactly as the adapter does.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "identity_encoder"

SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared"))
DF = os.path.join(SHARED, "data/faces/deepface-pairs/")
CB = os.path.join(SHARED, "data/faces/celeba-subset/")


def make_pairs(out):
    os.makedirs(out, exist_ok=True)
    random.seed(0)
    by = {}
    for r in csv.DictReader(open(CB + "identities.csv")):
        by.setdefault(r["identity"], []).append(r["image"])
    ids = sorted(by)
    same, diff = set(), set()
    while len(same) < 300:
        i = random.choice([k for k in ids if len(by[k]) >= 2])
        a, b = random.sample(by[i], 2)
        same.add((a, b))
    while len(diff) < 300:
        i, j = random.sample(ids, 2)
        diff.add((random.choice(by[i]), random.choice(by[j])))
    pairs = {"deepface": [[DF + r["file_x"], DF + r["file_y"], r["Decision"] == "Yes"]
                          for r in csv.DictReader(open(DF + "master.csv"))],
             "celeba": [[CB + "images/" + a, CB + "images/" + b, True] for a, b in sorted(same)]
             + [[CB + "images/" + a, CB + "images/" + b, False] for a, b in sorted(diff)]}
    json.dump(pairs, open(os.path.join(out, "pairs.json"), "w"))
    imgs = sorted({p for v in pairs.values() for a, b, _ in v for p in (a, b)})
    open(os.path.join(out, "images.txt"), "w").write("\n".join(imgs))
    print(len(imgs), "images ->", out)


def auc(pos, neg):
    s = np.concatenate([pos, neg])
    r = s.argsort().argsort() + 1.0
    return (r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def eer(pos, neg):
    best = (2.0, 0.0)
    for t in np.sort(np.concatenate([pos, neg])):
        far, frr = (neg >= t).mean(), (pos < t).mean()
        if abs(far - frr) < best[0]:
            best = (abs(far - frr), (far + frr) / 2)
    return best[1]


def separation(E: dict, pairs):
    pos, neg = [], []
    for a, b, s in pairs:
        if a in E and b in E:
            (pos if s else neg).append(float(E[a] @ E[b]))
    pos, neg = np.array(pos), np.array(neg)
    return {"n_same": len(pos), "n_diff": len(neg), "same_mean": pos.mean(), "same_std": pos.std(),
            "diff_mean": neg.mean(), "diff_std": neg.std(), "auc": auc(pos, neg), "eer": eer(pos, neg)}


def measure(a):
    import cv2
    import torch
    import torch.nn.functional as F

    from .adapter import OfflineIdentityEncoder
    from .align import align_face

    torch.set_num_threads(2)
    lm = json.load(open(a.landmarks))
    pairs = json.load(open(a.pairs))
    paths = sorted(p for p, v in lm.items() if v is not None)
    X = torch.from_numpy(np.stack([cv2.cvtColor(align_face(cv2.imread(p), lm[p], 224), cv2.COLOR_BGR2RGB)
                                   for p in paths])).permute(0, 3, 1, 2).float() / 255.0
    enc = OfflineIdentityEncoder().eval()
    fns = {"faceres raw 1024-d (raw_embedding)": enc.raw_embedding, "faceres adapter 512-d (untrained proj.)": lambda x: enc(x)[0]}
    if a.candidates:
        from .dlib_resnet import DlibResNet
        from .tfjs_graph import TFJSGraphModule
        from .tfjs_reader import load_graph_model, load_weights_manifest

        rs = lambda x, s: F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        m, w = load_graph_model(os.path.join(a.candidates, "hm/package/models/mobileface.json"))
        mf = TFJSGraphModule(m, w, ["batchnorm0/add_1"]).eval()
        fns["mobileface 256-d (human-models 3.0.4)"] = lambda x: mf(rs(x * 255, 112))
        dl = DlibResNet(load_weights_manifest(os.path.join(a.candidates, "fa/package/model/face_recognition_model-weights_manifest.json"))).eval()
        fns["dlib resnet 128-d (face-api 1.7.15)"] = lambda x: dl(rs(x * 255, 150))
    rows = []
    with torch.no_grad():
        for name, fn in fns.items():
            emb = F.normalize(torch.cat([fn(X[i:i + 32]) for i in range(0, len(X), 32)]), dim=1).numpy()
            E = dict(zip(paths, emb))
            for ds in ("deepface", "celeba"):
                r = separation(E, pairs[ds])
                rows.append((name, ds, r))
                print(f"| {name} | {ds} ({r['n_same']}/{r['n_diff']}) | {r['same_mean']:.3f} ± {r['same_std']:.3f} | "
                      f"{r['diff_mean']:.3f} ± {r['diff_std']:.3f} | {r['auc']:.4f} | {100 * r['eer']:.1f}% |", flush=True)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p1 = sp.add_parser("pairs")
    p1.add_argument("--out", required=True)
    p2 = sp.add_parser("measure")
    p2.add_argument("--landmarks", required=True)
    p2.add_argument("--pairs", required=True)
    p2.add_argument("--candidates", help="dir with extracted npm packages hm/ (human-models) and fa/ (face-api)")
    a = ap.parse_args()
    make_pairs(a.out) if a.cmd == "pairs" else measure(a)
