"""Convert the official MobileFaceSwap checkpoints to our three ONNX files.

    cd models && $(./setup.sh) -m convert_official.convert \\
        --faceswap MobileFaceSwap_224.pdparams --arcface arcface.pdparams [--out idn/official-224]

Reads both `.pdparams` (Paddle pickles of numpy arrays) with a restricted unpickler: no
paddle import, nothing but numpy arrays and plain containers is accepted from the file. Maps
them into our torch modules, then writes identity.onnx, conditioner.onnx, generator.onnx and
manifest.json ("weights": "converted") with idn.export.export_models:

  MobileFaceSwap_224.pdparams (BuildFaceSwap)
    predictor.*, EncoderModulation.*, DecoderModulation.*  -> idn.iim.IdentityInjectionModule
    final.*, mask.*                                        -> idn.network.IdentityAwareDynamicNetwork
  arcface.pdparams (IR-SE-101)                             -> convert_official.arcface.IRSEArcFace
    (the official source preprocessing, 224 -> 112 + ImageNet mean/std, inside)

Names are the same on both sides except Paddle -> torch BatchNorm statistics
(`_mean` -> `running_mean`, `_variance` -> `running_var`) and Paddle's PReLU parameter
(`_weight`, also accepted as `weight`); every Linear weight is transposed (Paddle [in, out],
torch [out, in]). Every tensor's shape is checked. A missing key is an error, except a conv or
Linear `.bias` (a layer built without bias: zero); a key our modules do not use is an error
too (--ignore-unused-keys overrides). The IDN's encoder/decoder conv biases are zero, as in
official inference.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import warnings
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch
from torch import nn

from idn.config import IdnConfig
from idn.export import PARTS, export_models
from idn.iim import IdentityInjectionModule
from idn.network import IdentityAwareDynamicNetwork

from .arcface import IR_SE_101, IRSEArcFace

MODELS_DIR = Path(__file__).resolve().parents[1]
DEFAULT_OUT = MODELS_DIR / "idn" / "official-224"
CROP = 224
IIM_PREFIXES = ("predictor.", "EncoderModulation.", "DecoderModulation.")
IDN_PREFIXES = ("final.", "mask.")
# Paddle pickles carry this name table beside the arrays; it is not a weight.
PADDLE_META_KEYS = ("StructuredToParameterName@@",)

Official = Dict[str, np.ndarray]


class ConversionError(ValueError):
    pass


# ---- reading .pdparams ----------------------------------------------------------------------
class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Paddle's .pdparams is a pickled dict of numpy arrays. Accept exactly what that needs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a .pdparams file")


def load_pdparams(path: Path) -> Official:
    """{official key: float32 array}. Paddle's PReLU parameter `x._weight` is renamed `x.weight`."""
    with open(path, "rb") as f:
        raw = _NumpyOnlyUnpickler(f).load()
    if not isinstance(raw, dict):
        raise ConversionError(f"{path}: expected a pickled dict (a Paddle state dict), got {type(raw).__name__}")
    out: Official = {}
    for key, value in raw.items():
        if key in PADDLE_META_KEYS:
            continue
        if not isinstance(value, np.ndarray):
            raise ConversionError(f"{path}: {key!r} is a {type(value).__name__}, not a numpy array")
        if key.endswith("._weight"):
            key = key[: -len("._weight")] + ".weight"
        if key in out:
            raise ConversionError(f"{path}: {key!r} appears twice")
        out[key] = np.ascontiguousarray(value, dtype=np.float32)
    return out


# ---- mapping into torch modules -------------------------------------------------------------
def official_key(torch_key: str) -> Optional[str]:
    """The official name of a torch state-dict entry (None: no Paddle counterpart)."""
    if torch_key.endswith("num_batches_tracked"):
        return None
    if torch_key.endswith(".running_mean"):
        return torch_key[: -len("running_mean")] + "_mean"
    if torch_key.endswith(".running_var"):
        return torch_key[: -len("running_var")] + "_variance"
    return torch_key


def _linear_weight_keys(module: nn.Module) -> Set[str]:
    return {f"{name}.weight" for name, m in module.named_modules() if isinstance(m, nn.Linear)}


def _optional_bias_keys(module: nn.Module) -> Set[str]:
    """Conv/Linear biases: a Paddle layer built with bias_attr=False has no `.bias` key, and
    then official inference runs it without one, i.e. with a zero bias."""
    return {f"{name}.bias" for name, m in module.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None}


def load_official_into(module: nn.Module, official: Official, prefixes: Optional[Sequence[str]] = None,
                       what: str = "") -> Set[str]:
    """Copy `official` into `module`'s state dict; returns the official keys used.

    Only torch keys under `prefixes` (all when None) are taken from the checkpoint; every
    one of them must be present with the right shape (after the Linear transpose)."""
    linear = _linear_weight_keys(module)
    optional_bias = _optional_bias_keys(module)
    state = module.state_dict()
    new_state = {}
    used: Set[str] = set()
    missing: List[str] = []
    for tkey, tval in state.items():
        okey = official_key(tkey)
        if okey is None or (prefixes is not None and not okey.startswith(tuple(prefixes))):
            continue
        if okey not in official:
            if tkey in optional_bias:
                print(f"[convert] note: {what}no {okey}: that layer has no bias; using zero",
                      file=sys.stderr)
                new_state[tkey] = torch.zeros_like(tval)
            else:
                missing.append(okey)
            continue
        arr = official[okey]
        if tkey in linear:
            arr = arr.T  # Paddle Linear weight [in, out] -> torch [out, in]
        if tuple(arr.shape) != tuple(tval.shape):
            want = tuple(tval.shape)[::-1] if tkey in linear else tuple(tval.shape)
            raise ConversionError(f"{what}{okey}: shape {tuple(official[okey].shape)}, expected {want}"
                                  + (" (Paddle Linear layout [in, out])" if tkey in linear else ""))
        new_state[tkey] = torch.from_numpy(np.ascontiguousarray(arr)).to(tval.dtype)
        used.add(okey)
    if missing:
        shown = ", ".join(missing[:8]) + (f" … ({len(missing)} in all)" if len(missing) > 8 else "")
        raise ConversionError(f"{what}missing keys: {shown}")
    module.load_state_dict(new_state, strict=False)
    return used


def _check_unused(official: Official, used: Iterable[str], what: str, allow: bool) -> None:
    """A key we do not use is a parameter our module lacks: the output would silently differ
    from official inference, so it is an error unless the user says otherwise."""
    unused = sorted(set(official) - set(used))
    if unused:
        shown = ", ".join(unused[:8]) + (f" … ({len(unused)} in all)" if len(unused) > 8 else "")
        msg = f"{what}: {len(unused)} keys have no place in our modules: {shown}"
        if not allow:
            raise ConversionError(msg + " (--ignore-unused-keys converts anyway)")
        print(f"[convert] warning: {msg}", file=sys.stderr)


def arcface_layers(official: Official) -> Tuple[int, ...]:
    """Blocks per stage from the keys (IR-SE-101: 3, 4, 23, 3)."""
    counts = []
    for stage in range(1, 5):
        blocks = {int(k.split(".")[1]) for k in official if k.startswith(f"layer{stage}.")}
        if not blocks or blocks != set(range(max(blocks) + 1)):
            raise ConversionError(f"arcface: layer{stage} blocks are {sorted(blocks)}, not 0..n-1")
        counts.append(max(blocks) + 1)
    return tuple(counts)


def build_modules(faceswap: Official, arcface: Official, ignore_unused: bool = False
                  ) -> Tuple[IRSEArcFace, IdentityInjectionModule, IdentityAwareDynamicNetwork]:
    config = IdnConfig(crop=CROP, guide_channels=0)
    iim = IdentityInjectionModule(config)
    idn = IdentityAwareDynamicNetwork(config)
    used = load_official_into(iim, faceswap, IIM_PREFIXES, "MobileFaceSwap checkpoint: ")
    used |= load_official_into(idn, faceswap, IDN_PREFIXES, "MobileFaceSwap checkpoint: ")
    _check_unused(faceswap, used, "MobileFaceSwap checkpoint", ignore_unused)
    layers = arcface_layers(arcface)
    if layers != IR_SE_101:
        print(f"[convert] note: arcface has layers={list(layers)}, not IR-SE-101's {list(IR_SE_101)}",
              file=sys.stderr)
    encoder = IRSEArcFace(layers)
    used = load_official_into(encoder, arcface, None, "arcface checkpoint: ")
    _check_unused(arcface, used, "arcface checkpoint", ignore_unused)
    for m in (encoder, iim, idn):
        m.eval()
    return encoder, iim, idn


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert(faceswap_path: Path, arcface_path: Path, out_dir: Path = DEFAULT_OUT,
            parts: Sequence[str] = PARTS, ignore_unused: bool = False) -> dict:
    """Write identity.onnx, conditioner.onnx, generator.onnx (or just `parts`) and
    manifest.json to out_dir."""
    faceswap_path, arcface_path, out_dir = Path(faceswap_path), Path(arcface_path), Path(out_dir)
    encoder, iim, idn = build_modules(load_pdparams(faceswap_path), load_pdparams(arcface_path), ignore_unused)
    manifest = export_models(out_dir, IdnConfig(crop=CROP, guide_channels=0), encoder, iim, idn,
                             weights="converted", parts=parts)
    manifest["converted_from"] = {
        "faceswap": {"file": faceswap_path.name, "sha256": _sha256(faceswap_path)},
        "arcface": {"file": arcface_path.name, "sha256": _sha256(arcface_path),
                    "layers": list(encoder.layers)},
        "tool": "models/convert_official/convert.py",
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convert_official.convert",
        description="Convert the official MobileFaceSwap_224.pdparams + arcface.pdparams to "
                    "identity.onnx, conditioner.onnx, generator.onnx (+ manifest.json).")
    parser.add_argument("--faceswap", type=Path, required=True, help="MobileFaceSwap_224.pdparams")
    parser.add_argument("--arcface", type=Path, required=True, help="arcface.pdparams (IR-SE-101)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(MODELS_DIR)}, which the app loads)")
    parser.add_argument("--ignore-unused-keys", action="store_true",
                        help="convert even if a checkpoint has keys our modules do not use")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    # torch.onnx's tracer chatter (constant tensors, shape inference) is expected here.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    try:
        manifest = convert(args.faceswap, args.arcface, args.out, ignore_unused=args.ignore_unused_keys)
    except (ConversionError, pickle.UnpicklingError, OSError) as e:
        print(f"[convert] error: {e}", file=sys.stderr)
        return 1
    for name in manifest["files"]:
        print(f"{args.out / name}: {(args.out / name).stat().st_size / 1e6:.1f} MB")
    print(f"{args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
