"""Teacher swaps for a list of pairs (used by `pnpm eval:quality`).

  python -m teacher.cli PAIRS.json
PAIRS.json: [{"source": path, "sourceLandmarks": [[x, y], ...478], "target": path,
              "targetLandmarks": [...], "out": path.png}, ...]; writes each `out`.
"""
import json
import sys

import cv2
import numpy as np

from .teacher import teacher_swap


def _read_rgb(path: str) -> np.ndarray:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"teacher: cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def main(argv) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m teacher.cli PAIRS.json")
    pairs = json.load(open(argv[0]))
    sources = {}
    for pair in pairs:
        if pair["source"] not in sources:
            sources[pair["source"]] = _read_rgb(pair["source"])
        out, _ = teacher_swap(sources[pair["source"]], np.asarray(pair["sourceLandmarks"], np.float64),
                              _read_rgb(pair["target"]), np.asarray(pair["targetLandmarks"], np.float64))
        cv2.imwrite(pair["out"], cv2.cvtColor(out, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main(sys.argv[1:])
