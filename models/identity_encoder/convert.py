#!/usr/bin/env python3
"""Regenerate faceres.onnx (+ LICENSE.human.txt, tfjs_reference.npz) from the npm tarball.

    python -m identity_encoder.convert               # from models/: npm pack, convert, check torch/ORT parity
    python -m identity_encoder.convert --verify-tfjs # also run the ORIGINAL TFJS model (node +
                                                     # @tensorflow/tfjs-core/-converter/-backend-cpu
                                                     # installed from npm into a temp dir) and compare
Options: --package-dir DIR (an already extracted `package/` parent, skips npm pack),
         --out DIR (default: this folder), --keep-tmp.

Conversion is our own code (tfjs_reader.py + tfjs_graph.py): no tensorflow, tfjs-converter
python package, tf2onnx or tensorflowjs. Weights are kept bit-exact (the TFJS file stores
them fp16; the ONNX stores the same fp16 values + Cast to float32).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

if __package__ in (None, ""):  # allow `python identity_encoder/convert.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "identity_encoder"

from . import faceres as FR  # noqa: E402
from .tfjs_graph import TFJSGraphModule, module_from_onnx, to_onnx  # noqa: E402
from .tfjs_reader import load_graph_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TFJS_NPM = ["@tensorflow/tfjs-core@4.22.0", "@tensorflow/tfjs-converter@4.22.0", "@tensorflow/tfjs-backend-cpu@4.22.0"]

REF_MJS = r"""
import fs from 'fs'; import path from 'path';
import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
const [modelJson, inFile, N, H, W, outFile, ...names] = process.argv.slice(2);
await tf.setBackend('cpu');
const mj = JSON.parse(fs.readFileSync(modelJson)); const dir = path.dirname(modelJson);
const all = Buffer.concat(mj.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
const handler = { load: async () => ({ modelTopology: mj.modelTopology, format: mj.format,
  weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
  weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), signature: mj.signature }) };
const model = await loadGraphModel(handler);
const raw = fs.readFileSync(inFile);
const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [+N, +H, +W, 3]);
let outs = model.execute(x, names); if (!Array.isArray(outs)) outs = [outs];
const parts = []; for (const o of outs) parts.push(Buffer.from((await o.data()).buffer));
fs.writeFileSync(outFile, Buffer.concat(parts));
console.log('tfjs-core', tf.version_core, 'backend', tf.getBackend(), 'outputs', outs.map((o) => o.shape.join('x')).join(' '));
"""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def fetch_package(tmp: str) -> str:
    spec = f"{FR.NPM_PACKAGE}@{FR.NPM_VERSION}"
    print(f"[convert] npm pack {spec}", flush=True)
    r = subprocess.run(["npm", "pack", spec, "--pack-destination", tmp, "--silent"], check=True,
                       capture_output=True, text=True)
    tgz = os.path.join(tmp, r.stdout.strip().splitlines()[-1])
    got = sha256(tgz)
    if got != FR.NPM_TARBALL_SHA256:
        print(f"[convert] WARNING tarball sha256 {got} != recorded {FR.NPM_TARBALL_SHA256}")
    with tarfile.open(tgz) as t:
        for member in (FR.MODEL_JSON, FR.MODEL_BIN, FR.LICENSE_IN_TARBALL, "package/package.json"):
            t.extract(member, tmp)
    return tmp


def test_inputs() -> np.ndarray:
    """[N,224,224,3] float 0..255: the public-domain astronaut sample aligned to the
    ArcFace×2 template (if the repo's client sample is present) + 1 seeded random image."""
    xs = []
    lm = json.load(open(os.path.join(HERE, "landmarks_testdata.json")))["points"]
    astro = os.path.join(REPO, "client/public/samples/astronaut.jpg")
    if os.path.exists(astro):
        import cv2

        from .align import align_face

        xs.append(cv2.cvtColor(align_face(cv2.imread(astro), lm["client/public/samples/astronaut.jpg"], 224),
                               cv2.COLOR_BGR2RGB))
    xs.append(np.random.default_rng(1234).integers(0, 256, (224, 224, 3), dtype=np.uint8))
    return np.stack(xs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package-dir")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--verify-tfjs", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    tmp = tempfile.mkdtemp(prefix="idenc-")
    try:
        pkg = a.package_dir or fetch_package(tmp)
        mj, mbin = os.path.join(pkg, FR.MODEL_JSON), os.path.join(pkg, FR.MODEL_BIN)
        for p, want in ((mj, FR.MODEL_JSON_SHA256), (mbin, FR.MODEL_BIN_SHA256)):
            if sha256(p) != want:
                print(f"[convert] WARNING {p} sha256 differs from the recorded one")
        model, weights = load_graph_model(mj)
        om = to_onnx(model, weights, FR.TFJS_OUTPUTS, (FR.INPUT_SIZE, FR.INPUT_SIZE), FR.OUTPUT_NAMES,
                     weight_dtype=np.float16)
        os.makedirs(a.out, exist_ok=True)
        onnx_path = os.path.join(a.out, "faceres.onnx")
        import onnx

        onnx.save(om, onnx_path)
        shutil.copy(os.path.join(pkg, FR.LICENSE_IN_TARBALL), os.path.join(a.out, "LICENSE.human.txt"))
        print(f"[convert] wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.2f} MB)")

        # --- parity: torch (from TFJS weights) / torch (from the ONNX file) / onnxruntime
        import onnxruntime as ort

        x = test_inputs().astype(np.float32)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            t_direct = [o.numpy() for o in TFJSGraphModule(model, weights, FR.TFJS_OUTPUTS)(xt)]
            t_onnx = [o.numpy() for o in module_from_onnx(onnx_path, FR.TFJS_OUTPUTS)(xt)]
        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        r = sess.run(FR.OUTPUT_NAMES, {"input": xt.numpy()})
        report = {}
        for i, n in enumerate(FR.OUTPUT_NAMES):
            report[n] = {"torch_tfjsweights_vs_torch_onnxfile": float(np.abs(t_direct[i] - t_onnx[i]).max()),
                         "torch_vs_onnxruntime": float(np.abs(t_onnx[i] - r[i]).max()),
                         "max_abs_value": float(np.abs(r[i]).max())}
        if a.verify_tfjs:
            ref = run_tfjs(tmp, mj, x)
            for i, n in enumerate(FR.OUTPUT_NAMES):
                tf_out = ref[i] if ref[i].ndim == 2 else ref[i].transpose(0, 3, 1, 2)
                report[n]["tfjs_vs_torch"] = float(np.abs(tf_out - t_onnx[i]).max())
                report[n]["tfjs_vs_onnxruntime"] = float(np.abs(tf_out - r[i]).max())
                e = lambda v: v.reshape(len(v), -1) / np.linalg.norm(v.reshape(len(v), -1), axis=1, keepdims=True)
                report[n]["tfjs_vs_torch_min_cosine"] = float((e(tf_out) * e(t_onnx[i])).sum(1).min())
            np.savez_compressed(os.path.join(a.out, "tfjs_reference.npz"), input_nhwc_uint8=x.astype(np.uint8),
                                embedding=ref[0].astype(np.float32),
                                fmap_nchw=ref[1].transpose(0, 3, 1, 2).astype(np.float16))
            print(f"[convert] wrote tfjs_reference.npz")
        print(json.dumps(report, indent=1))
    finally:
        if a.keep_tmp:
            print("[convert] kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_tfjs(tmp, model_json, x):
    d = os.path.join(tmp, "tfjsref")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "package.json"), "w") as f:
        json.dump({"name": "tfjsref", "private": True, "type": "module"}, f)
    print("[convert] npm install", " ".join(TFJS_NPM), flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *TFJS_NPM], cwd=d, check=True)
    with open(os.path.join(d, "ref.mjs"), "w") as f:
        f.write(REF_MJS)
    x.astype(np.float32).tofile(os.path.join(d, "in.f32"))
    out = os.path.join(d, "out.f32")
    n = len(x)
    subprocess.run(["node", "ref.mjs", os.path.abspath(model_json), "in.f32", str(n), "224", "224", out,
                    *FR.TFJS_OUTPUTS], cwd=d, check=True)
    flat = np.fromfile(out, np.float32)
    emb = flat[: n * FR.EMBED_DIM].reshape(n, FR.EMBED_DIM)
    fmap = flat[n * FR.EMBED_DIM:].reshape(n, 7, 7, FR.FMAP_CHANNELS)
    return [emb, fmap]


if __name__ == "__main__":
    main()
