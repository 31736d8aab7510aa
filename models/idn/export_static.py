"""Bake one identity into a generator: the 18 identity inputs become initializers.

CLI (from models/):
  python -m idn.export_static --generator DIR/generator.onnx --pack pack.npz --out static.onnx
pack.npz holds the 18 tensors under their names (enc_dw_0 … dec_pw_3), e.g. the
outputs of conditioner.onnx saved with numpy.savez.
"""
import argparse
from pathlib import Path
from typing import Optional, Sequence

from .export import load_pack, write_static_generator


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Write a generator with one identity baked in.")
    parser.add_argument("--generator", type=Path, required=True)
    parser.add_argument("--pack", type=Path, required=True, help=".npz with the 18 identity tensors")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_static_generator(args.generator, load_pack(args.pack), args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
