"""Exports a training run (DIR/last.pt) as the app's model folder: identity.onnx,
conditioner.onnx (both with weights stored fp16 + Cast: half the download) and
generator.onnx, with manifest.json carrying `about` (shown in the app's About box)
and `training` (where the weights came from). Checks onnxruntime against torch on a
held-out face and prints the largest differences.

  python -m train.export_trained --run DIR --out idn/trained-128 --name "guided IDN 128"
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from idn import IdnConfig
from idn.export import export_models
from idn.network import IDENTITY_TENSOR_NAMES

from .faces import load
from .train import CROP, Models, make_input, to_tensor

TERMS = ("Trained on a subset of CelebA (via ../shared/data/faces): CelebA is for non-commercial research "
         "purposes only, and these weights inherit that restriction. Not for commercial use.")


def weights_to_fp16(path: Path, min_elements: int = 4096) -> None:
    """Large float32 initializers → float16 + Cast back to float32 (half the file, same graph)."""
    model = onnx.load(str(path))
    graph = model.graph
    keep, casts = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= min_elements:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16")
            keep.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    args = ap.parse_args()
    state = torch.load(Path(args.run) / "last.pt")
    config = IdnConfig(**state["config"])
    models = Models(config)
    models.load_state_dict(state["models"])
    models.eval()
    out = Path(args.out)
    manifest = export_models(out, config, models.encoder, models.iim, models.idn, weights="trained")
    for name in ("identity.onnx", "conditioner.onnx"):
        weights_to_fp16(out / name)
    for name in ("identity.onnx", "conditioner.onnx", "generator.onnx"):
        data = (out / name).read_bytes()  # the fp16 rewrite changed two of them
        manifest["files"][name]["bytes"] = len(data)
        manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["about"] = {
        "title": f"MobileFaceSwap {args.name} (trained for Guise)",
        "data": "CelebA subset (273 training identities), distilled from an offline mesh + Poisson teacher",
        "terms": TERMS,
        "card": "models/idn/MODEL_CARD.md",
    }
    manifest["training"] = {"variant": state["variant"], "steps": state["step"], "samples": state["samples"],
                            "minutes": round(state["elapsed"] / 60, 1), "device": "CPU, 1 thread"}

    # ONNX (conditioner in fp16) against torch, on a held-out face and target.
    faces = load()
    val = faces.split("val")
    s, t = int(val[0]), int(val[-1])
    src = to_tensor(faces.crops224[s:s + 1])
    target = to_tensor(faces.crops128[t:t + 1])
    guide = to_tensor(faces.guide(s, t, CROP)[None])
    x = make_input(state["variant"], target, guide)
    with torch.no_grad():
        e, f = models.encoder(src)
        ref_out, _ = models.idn(x, *models.pack(src))
    run = lambda name, feeds: ort.InferenceSession(str(out / name)).run(None, feeds)
    e2, f2 = run("identity.onnx", {"face": src.numpy()})
    tensors = run("conditioner.onnx", {"embedding": e2, "feature_map": f2})
    feeds = {"target": x.numpy(), **{n: v[0] if v.shape[0] == 1 and v.ndim > len(tensors[0].shape) - 1 else v
                                    for n, v in zip(IDENTITY_TENSOR_NAMES, tensors)}}
    sess = ort.InferenceSession(str(out / "generator.onnx"))
    want = {i.name: len(i.shape) for i in sess.get_inputs()}
    feeds = {k: (v[0] if v.ndim == want[k] + 1 else v) for k, v in feeds.items()}
    onnx_out = sess.run(None, feeds)[0]
    manifest["parity"] = {"embedding_max_abs": float(np.abs(e2 - e.numpy()).max()),
                          "swapped_max_abs_fp16_weights": float(np.abs(onnx_out - ref_out.numpy()).max())}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({k: manifest[k] for k in ("training", "parity")}, indent=1))
    print({n: manifest["files"][n]["bytes"] for n in manifest["files"]})


if __name__ == "__main__":
    main()
