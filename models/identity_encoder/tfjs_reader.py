"""Minimal reader for TensorFlow.js model files (our own code; no tensorflow / tfjs converter).

A TFJS model is a `model.json` (graph topology + `weightsManifest`) plus one or more
binary shards. The shards of a manifest group are concatenated and hold each weight in
manifest order, stored either raw (`dtype`) or quantised (`quantization.dtype` =
float16 | uint8 | uint16, with `scale`/`min` for the integer ones). This module returns
float32/int32 numpy arrays dequantised exactly as tfjs-core does
(`io.decodeWeights`: q * scale + min, float16 via IEEE half).

Also reads the older "weights manifest only" layout used by face-api.js
(`*-weights_manifest.json` is a bare list of groups).
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

import numpy as np

_NP = {"float32": np.float32, "int32": np.int32, "bool": np.bool_,
       "uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}


def read_manifest_weights(manifest: List[dict], base_dir: str) -> Dict[str, np.ndarray]:
    out: Dict[str, np.ndarray] = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(base_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qdt = np.dtype(_NP[q["dtype"]])
                raw = np.frombuffer(buf, dtype=qdt, count=n, offset=off)
                off += n * qdt.itemsize
                if q["dtype"] == "float16":
                    arr = raw.astype(np.float32)
                else:  # affine integer quantisation (tfjs: v * scale + min)
                    arr = (raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])).astype(np.float32)
                arr = arr.astype(_NP[w.get("dtype", q.get("original_dtype", "float32"))])
            else:
                dt = np.dtype(_NP[w["dtype"]])
                arr = np.frombuffer(buf, dtype=dt, count=n, offset=off).copy()
                off += n * dt.itemsize
            out[w["name"]] = arr.reshape(shape)
        if off != len(buf):
            raise ValueError(f"weights group {group['paths']}: consumed {off} of {len(buf)} bytes")
    return out


def load_graph_model(model_json: str) -> Tuple[dict, Dict[str, np.ndarray]]:
    """Return (model.json dict, {const name: array}) for a TFJS graph model."""
    with open(model_json) as f:
        m = json.load(f)
    if m.get("format") != "graph-model":
        raise ValueError(f"{model_json}: not a TFJS graph-model (format={m.get('format')})")
    return m, read_manifest_weights(m["weightsManifest"], os.path.dirname(os.path.abspath(model_json)))


def load_weights_manifest(manifest_json: str) -> Dict[str, np.ndarray]:
    with open(manifest_json) as f:
        man = json.load(f)
    return read_manifest_weights(man, os.path.dirname(os.path.abspath(manifest_json)))
