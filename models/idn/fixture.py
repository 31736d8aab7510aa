"""Torch reference outputs for the runtimes' parity tests.

CLI (from models/):  python -m idn.fixture --crop 128 --seed 0 --out DIR
Rebuilds the same random models `python -m idn.export` exports for that seed,
runs torch on fixed inputs, and writes them and the outputs as raw float32
little-endian files plus fixture.json, which the TypeScript tests read to
check onnxruntime-node and onnxruntime-web against torch.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from .config import IdnConfig
from .network import IDENTITY_TENSOR_NAMES, identity_args
from .random_init import build_random_models, sample_face, sample_target


def write_fixture(crop: int, seed: int, out: Path) -> None:
    torch.set_num_threads(2)
    config = IdnConfig(crop=crop, guide_channels=0)
    encoder, iim, idn = build_random_models(config, seed)
    face, target = sample_face(seed), sample_target(config, seed + 1)
    with torch.no_grad():
        embedding, feature_map = encoder(face)
        pack = identity_args(iim.identity_pack(embedding, feature_map))
        swapped, mask = idn(target, *pack)
    arrays = {"face": face, "target": target, "embedding": embedding, "feature_map": feature_map,
              **dict(zip(IDENTITY_TENSOR_NAMES, pack)), "swapped": swapped, "mask": mask}
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for name, tensor in arrays.items():
        data = tensor.detach().numpy().astype("<f4")
        data.tofile(out / f"{name}.f32")
        index[name] = {"file": f"{name}.f32", "shape": list(data.shape)}
    (out / "fixture.json").write_text(json.dumps({"crop": crop, "seed": seed, "tensors": index}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_fixture(args.crop, args.seed, args.out)


if __name__ == "__main__":
    main()
