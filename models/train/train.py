"""Trains the IDN + IIM (and the identity adapter's projections) by distillation.

  python -m train.train --variant guided|faithful --out DIR [--minutes 90] [--threads 1]

Each step takes ONE source photo (the IDN's per-identity weights are shared by a batch):
its K same-identity targets (reconstruction: the output must be the target) and its K
cross-identity targets with teacher swaps (distillation, weighted per sample by the
teacher's quality, train/quality.py). Losses:
  rec   L1(out, target)                           same identity
  kd    w · L1(out, teacher)                      cross identity
  feat  w · L1 on the frozen face net's 7×7 map   (out vs teacher / target)
  id    1 - cos(face net(out), face net(source))  all samples
  mask  mean(mask · background)                   outside the target's face hull
Resumable: DIR/last.pt is written every few minutes and picked up on restart.
DIR/log.jsonl gets one line per logging interval (train losses and a fixed validation
probe on held-out validation identities).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Dict, List

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from identity_encoder.adapter import OfflineIdentityEncoder
from idn import IdentityAwareDynamicNetwork, IdentityInjectionModule, IdnConfig
from idn.random_init import _calibrate_, _iim_layers
from idn.network import IDENTITY_TENSOR_NAMES
from teacher.warp import topology

from .build_set import DEFAULT_OUT
from .faces import load

# rec is light: a reconstruction target is the input itself, so a heavy weight teaches
# the net to hand the target back unchanged (measured: after 1k samples at weight 1 the
# guided net's mask averaged 0.14 and the output stayed the target's identity).
LOSS_WEIGHTS = {"rec": 0.3, "kd": 1.0, "feat": 0.5, "id": 0.5, "mask": 0.5}
CROP = 128


def to_tensor(a: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 255


def to_face_net(x: Tensor) -> Tensor:
    """A 128 crop at the face net's 224 input (same framing, the crops are one similarity)."""
    return F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)


def hull_background(xy: np.ndarray, size: int) -> np.ndarray:
    """1 outside the face oval (dilated a little: hair and ears are fair game), else 0."""
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [np.round(xy[topology()["faceOval"]]).astype(np.int32)], 1)
    m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    return (1 - m).astype(np.float32)


class Models(nn.Module):
    def __init__(self, config: IdnConfig):
        super().__init__()
        self.encoder = OfflineIdentityEncoder()
        self.iim = IdentityInjectionModule(config)
        self.idn = IdentityAwareDynamicNetwork(config)

    def train(self, mode: bool = True):
        super().train(mode)
        # One identity per step: batch statistics of one sample's 4×4 maps are noise, so
        # the IIM's BatchNorms stay affine-only (eval mode, running stats untouched).
        self.iim.eval()
        return self

    def pack(self, source224: Tensor) -> List[Tensor]:
        e, f = self.encoder(source224)
        p = self.iim(e, f)
        return [p[name][0] for name in IDENTITY_TENSOR_NAMES]


def make_input(variant: str, target: Tensor, guide: Tensor) -> Tensor:
    return torch.cat([target, guide], 1) if variant == "guided" else target


class Trainer:
    def __init__(self, args):
        self.args = args
        self.config = IdnConfig(crop=CROP, guide_channels=4 if args.variant == "guided" else 0)
        self.faces = load()
        d = args.set
        self.pairs = np.load(os.path.join(d, "pairs.npy"))
        self.guide = np.load(os.path.join(d, "guide128.npy"), mmap_mode="r")
        self.teacher = np.load(os.path.join(d, "teacher128.npy"), mmap_mode="r")
        q = os.path.join(d, "quality.npz")
        self.weight = np.load(q)["weight"] if os.path.exists(q) and not args.no_reweight else np.ones(len(self.pairs))
        self.sources = np.unique(self.pairs[:, 0])
        self.rows_of = {int(s): np.nonzero(self.pairs[:, 0] == s)[0] for s in self.sources}
        self.models = Models(self.config)
        self.rng = np.random.default_rng(args.seed)
        self.step = 0
        self.samples = 0
        self.elapsed = 0.0
        self.probe = self._probe_set()
        trainable = [p for p in self.models.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(trainable, lr=args.lr, betas=(0.9, 0.999))
        os.makedirs(args.out, exist_ok=True)
        self.ckpt = os.path.join(args.out, "last.pt")
        if os.path.exists(self.ckpt):
            self._load()
        else:
            self._calibrate()

    def _calibrate(self) -> None:
        """Real-face LSUV scaling of the IIM so predicted kernels start with gain ~1; the
        guided net starts as the plain mesh warp (a zero correction)."""
        if self.config.guide_channels:
            last = self.models.idn.final[-2]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        s = int(self.sources[0])
        src = to_tensor(self.faces.crops224[s:s + 1])
        m = self.models
        with torch.no_grad():
            _calibrate_(_iim_layers(m.iim), lambda: m.iim(*m.encoder(src)))

    def _probe_set(self) -> Dict[str, Tensor]:
        """A fixed held-out check: validation identities, cross-identity, teacher-free metrics."""
        f = self.faces
        ids = f.by_identity(f.split("val"))
        keys = sorted(ids)
        src_rows = [int(ids[k][0]) for k in keys[:6]]
        tgt_rows = [int(ids[k][-1]) for k in keys[6:14]]
        guides = [f.guide(src_rows[0], t, CROP) for t in tgt_rows]
        return {"sources": src_rows, "targets": tgt_rows, "target": to_tensor(f.crops128[tgt_rows]),
                "guide": to_tensor(np.stack(guides)), "src224": to_tensor(f.crops224[src_rows[:1]])}

    def _save(self) -> None:
        state = {"models": self.models.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                 "samples": self.samples, "elapsed": self.elapsed, "rng": self.rng.bit_generator.state,
                 "variant": self.args.variant, "config": {"crop": self.config.crop, "guide_channels": self.config.guide_channels}}
        tmp = self.ckpt + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.ckpt)

    def _load(self) -> None:
        state = torch.load(self.ckpt)
        self.models.load_state_dict(state["models"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.samples, self.elapsed = state["step"], state["samples"], state["elapsed"]
        self.rng.bit_generator.state = state["rng"]
        print(f"resumed at step {self.step} ({self.samples} samples, {self.elapsed / 60:.1f} min)", flush=True)

    def losses(self, rows: np.ndarray) -> Dict[str, Tensor]:
        f, m = self.faces, self.models
        src = int(self.pairs[rows[0], 0])
        targets = self.pairs[rows, 1]
        kind = torch.from_numpy(self.pairs[rows, 2].astype(np.float32))
        w = torch.from_numpy(self.weight[rows].astype(np.float32))
        src224 = to_tensor(f.crops224[src:src + 1])
        target = to_tensor(np.stack([f.crops128[t] for t in targets]))
        guide = to_tensor(np.stack([self.guide[r] for r in rows]))
        reference = to_tensor(np.stack([self.teacher[r] for r in rows]))  # recon rows hold the target
        background = torch.from_numpy(np.stack([hull_background(f.landmarks(int(t), CROP), CROP) for t in targets]))[:, None]

        out, mask = m.idn(make_input(self.args.variant, target, guide), *m.pack(src224))
        per_l1 = (out - reference).abs().mean(dim=(1, 2, 3))
        # The face net's backward dominates a step (~4x the IDN's), so its losses see the
        # cross-identity samples only: there the identity has to change; reconstruction
        # samples are already the source's identity and L1 covers them.
        kd_rows = kind > 0
        emb_out, fmap_out = m.encoder.backbone_features(to_face_net(out[kd_rows]))
        with torch.no_grad():
            _, fmap_ref = m.encoder.backbone_features(to_face_net(reference[kd_rows]))
            emb_src, _ = m.encoder.backbone_features(src224)
        per_feat = (fmap_out - fmap_ref).abs().mean(dim=(1, 2, 3)) / (fmap_ref.abs().mean() + 1e-6)
        per_id = 1 - F.cosine_similarity(emb_out, emb_src.expand_as(emb_out), dim=1)
        rec, kd = (1 - kind), kind
        return {
            "rec": (per_l1 * rec).sum() / rec.sum().clamp_min(1),
            "kd": (per_l1 * w * kd).sum() / kd.sum().clamp_min(1),
            "feat": (per_feat * w[kd_rows]).mean(),
            "id": per_id.mean(),
            "mask": (mask * background).mean(),
        }

    @torch.no_grad()
    def validate(self) -> Dict[str, float]:
        m, p = self.models, self.probe
        m.eval()
        out, mask = m.idn(make_input(self.args.variant, p["target"], p["guide"]), *m.pack(p["src224"]))
        e_out = F.normalize(m.encoder.backbone_features(to_face_net(out))[0], dim=1)
        e_src = F.normalize(m.encoder.backbone_features(p["src224"])[0], dim=1)
        e_tgt = F.normalize(m.encoder.backbone_features(to_face_net(p["target"]))[0], dim=1)
        m.train()
        self.last_probe = out
        return {"val_id_src": float((e_out * e_src).sum(1).mean()), "val_id_tgt": float((e_out * e_tgt).sum(1).mean()),
                "val_mask_mean": float(mask.mean()), "val_change": float((out - p["target"]).abs().mean())}

    def run(self) -> None:
        args = self.args
        self.models.train()
        log = open(os.path.join(args.out, "log.jsonl"), "a")
        budget = args.minutes * 60
        acc: Dict[str, float] = {}
        n_acc = 0
        last_save = last_log = time.time()
        t_prev = time.time()
        while self.elapsed < budget:
            src = int(self.rng.choice(self.sources))
            rows = self.rows_of[src]
            parts = self.losses(rows)
            total = sum(LOSS_WEIGHTS[k] * v for k, v in parts.items())
            self.opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(self.models.parameters(), 5.0)
            self.opt.step()
            now = time.time()
            self.elapsed += now - t_prev
            t_prev = now
            self.step += 1
            self.samples += len(rows)
            for k, v in parts.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            acc["total"] = acc.get("total", 0.0) + float(total)
            n_acc += 1
            if now - last_log > args.log_seconds or self.elapsed >= budget:
                entry = {"step": self.step, "samples": self.samples, "minutes": round(self.elapsed / 60, 2),
                         **{k: round(v / n_acc, 5) for k, v in acc.items()}, **self.validate()}
                log.write(json.dumps(entry) + "\n")
                log.flush()
                print(json.dumps(entry), flush=True)
                acc, n_acc, last_log = {}, 0, time.time()
                t_prev = time.time()  # validation time isn't training time
            if now - last_save > args.save_seconds:
                self._save()
                last_save = time.time()
                t_prev = time.time()
        self._save()
        print(f"done: {self.step} steps, {self.samples} samples, {self.elapsed / 60:.1f} min", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=("guided", "faithful"), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", default=DEFAULT_OUT)
    ap.add_argument("--minutes", type=float, default=90)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-seconds", type=float, default=120)
    ap.add_argument("--save-seconds", type=float, default=300)
    ap.add_argument("--no-reweight", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    Trainer(args).run()


if __name__ == "__main__":
    main()
