"""ONNX export: identity.onnx, conditioner.onnx, generator.onnx (+ manifest.json),
and write_static_generator(), which bakes one identity into a generator.

CLI (from models/):  python -m idn.export --crop 224 --guide 0 --out DIR [--seed N]
The CLI exports RANDOM weights (mechanics only); export_models() takes trained modules.
"""
import argparse
import hashlib
import json
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import Tensor, nn

from .config import IdnConfig
from .encoder import EMBEDDING_DIM, FEATURE_MAP_SHAPE, SOURCE_CROP, IdentityEncoder
from .iim import IdentityInjectionModule
from .network import IDENTITY_TENSOR_NAMES, IdentityAwareDynamicNetwork, identity_args
from .random_init import build_random_models, sample_face, sample_target

# The highest opset torch 1.13's exporter supports.
OPSET = 17
PARTS = ("identity", "conditioner", "generator")
FILE_NAMES = {part: f"{part}.onnx" for part in PARTS}


class _ConditionerGraph(nn.Module):
    """The IIM for one identity: unbatched outputs, exactly the generator's inputs."""

    def __init__(self, iim: IdentityInjectionModule):
        super().__init__()
        self.iim = iim

    def forward(self, embedding: Tensor, feature_map: Tensor) -> Tuple[Tensor, ...]:
        return tuple(identity_args(self.iim.identity_pack(embedding, feature_map)))


def _value_shapes(values: Iterable[onnx.ValueInfoProto]) -> list:
    return [{"name": v.name, "shape": [d.dim_value for d in v.type.tensor_type.shape.dim]} for v in values]


def _export(module: nn.Module, args: tuple, path: Path, input_names: Sequence[str],
            output_names: Sequence[str]) -> dict:
    torch.onnx.export(module, args, str(path), opset_version=OPSET, input_names=list(input_names),
                      output_names=list(output_names), do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL)
    onnx.checker.check_model(str(path))
    graph = onnx.load(str(path), load_external_data=False).graph
    initializer_names = {init.name for init in graph.initializer}
    # Size and hash name the weights: the app keys its cached identity packs
    # by a hash of manifest.json, so other weights must make another manifest.
    return {"inputs": _value_shapes(v for v in graph.input if v.name not in initializer_names),
            "outputs": _value_shapes(graph.output),
            "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def export_models(out_dir: Path, config: IdnConfig, encoder: IdentityEncoder, iim: IdentityInjectionModule,
                  idn: IdentityAwareDynamicNetwork, weights: str, seed: Optional[int] = None,
                  parts: Sequence[str] = PARTS) -> dict:
    """Write the requested ONNX files and manifest.json into out_dir; returns the manifest.

    Puts the modules in eval mode (and leaves them there). Every exported module must
    be in eval mode: the exporter restores each module's own mode afterwards, so a
    wrapper left in train mode would switch the wrapped IIM's BatchNorms to train.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for module in (encoder, iim, idn):
        module.eval()
    files = {}
    with torch.no_grad():
        embedding, feature_map = encoder(sample_face())
        pack = iim.identity_pack(embedding, feature_map)
        if "identity" in parts:
            files[FILE_NAMES["identity"]] = _export(encoder, (sample_face(),), out_dir / FILE_NAMES["identity"],
                                                    ["face"], ["embedding", "feature_map"])
        if "conditioner" in parts:
            files[FILE_NAMES["conditioner"]] = _export(_ConditionerGraph(iim).eval(), (embedding, feature_map),
                                                       out_dir / FILE_NAMES["conditioner"],
                                                       ["embedding", "feature_map"], IDENTITY_TENSOR_NAMES)
        if "generator" in parts:
            files[FILE_NAMES["generator"]] = _export(idn, (sample_target(config), *identity_args(pack)),
                                                     out_dir / FILE_NAMES["generator"],
                                                     ("target",) + IDENTITY_TENSOR_NAMES, ["swapped", "mask"])
    manifest = {
        "crop": config.crop,
        "guide_channels": config.guide_channels,
        "input_channels": config.input_channels,
        "target_channels": "RGB in [0,1], then guide channels" if config.guide_channels else "RGB in [0,1]",
        "source_face": f"aligned {SOURCE_CROP}x{SOURCE_CROP} RGB in [0,1]",
        "embedding_dim": EMBEDDING_DIM,
        "feature_map_shape": list(FEATURE_MAP_SHAPE),
        "identity_tensors": list(IDENTITY_TENSOR_NAMES),
        "opset": OPSET,
        "seed": seed,
        "weights": weights,
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def write_static_generator(generator_path: Path, pack: Mapping[str, np.ndarray], out_path: Path) -> None:
    """Bake one identity into the generator: its 18 inputs become initializers.

    The result takes only `target`; the runtime can then constant-fold and prepack
    the convs (the "build the identity's generator in the background" option).
    """
    model = onnx.load(str(generator_path))
    graph = model.graph
    inputs = {value.name: value for value in graph.input}
    for name in IDENTITY_TENSOR_NAMES:
        if name not in inputs:
            raise ValueError(f"{generator_path} has no input {name!r}")
        expected = [d.dim_value for d in inputs[name].type.tensor_type.shape.dim]
        array = np.ascontiguousarray(pack[name], dtype=np.float32)
        if list(array.shape) != expected:
            raise ValueError(f"{name}: pack shape {list(array.shape)} != generator input {expected}")
        graph.input.remove(inputs[name])
        graph.initializer.append(numpy_helper.from_array(array, name))
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))


def load_pack(path: Path) -> Dict[str, np.ndarray]:
    """An identity pack saved as .npz with the 18 IDENTITY_TENSOR_NAMES as keys."""
    with np.load(str(path)) as data:
        return {name: data[name] for name in IDENTITY_TENSOR_NAMES}


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Export RANDOM-weight IDN ONNX files (mechanics only).")
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--guide", type=int, default=0, help="guide channels after the target RGB")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    config = IdnConfig(crop=args.crop, guide_channels=args.guide)
    encoder, iim, idn = build_random_models(config, args.seed)
    manifest = export_models(args.out, config, encoder, iim, idn, weights="random", seed=args.seed)
    for name in manifest["files"]:
        size = (args.out / name).stat().st_size
        print(f"{args.out / name}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
