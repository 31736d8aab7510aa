"""Parameters and multiply-accumulates (MACs) per frame of an exported generator.

CLI (from models/):  python -m idn.count DIR_OR_ONNX [--json]

Counted from the ONNX graph with onnx shape inference, so it measures exactly what
the app runs. Conventions:
  - parameters: per-identity = graph inputs used as Conv weights (the 18 identity
    tensors); shared = initializers/Constants used as weights, biases or BatchNorm
    tensors. Zero-valued shared tensors (the official zero biases) are included
    and reported separately. Shape and scale constants (Resize scales etc.) are not
    parameters.
  - MACs: Conv = output elements × (C_in/groups × kh × kw), depthwise included;
    ConvTranspose = input elements × C_out/groups × kh × kw; Gemm/MatMul = output
    elements × K; BatchNormalization (if not folded into a conv) = 1 per element.
    Biases are not counted (the usual convention, and the one the released code's
    count follows). Resize (bilinear), activations, concat and the blend are not
    MACs: they are reported as "other" output elements.
"""
import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
from onnx import numpy_helper

PARAMETER_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "PRelu"}
TOP_LEVEL = "(top level)"


def _shape(value: onnx.ValueInfoProto) -> List[int]:
    return [d.dim_value for d in value.type.tensor_type.shape.dim]


def _attribute(node: onnx.NodeProto, name: str, default):
    for attribute in node.attribute:
        if attribute.name == name:
            return onnx.helper.get_attribute_value(attribute)
    return default


def _section(node_name: str) -> str:
    # torch names module calls "/final/final.1/Conv"; ops of the top-level forward are "/Conv_3".
    parts = node_name.split("/")
    return parts[1] if len(parts) > 2 and parts[1] else TOP_LEVEL


def count_graph(path: Path) -> Dict:
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    constants: Dict[str, np.ndarray] = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = numpy_helper.to_array(_attribute(node, "value", None))
    shapes = {v.name: _shape(v) for v in list(graph.input) + list(graph.value_info) + list(graph.output)}
    shapes.update({name: list(array.shape) for name, array in constants.items()})
    frame_inputs = [v.name for v in graph.input if v.name not in constants]

    per_identity: Dict[str, int] = {}
    shared: Dict[str, np.ndarray] = {}
    macs_by_kind: Dict[str, int] = defaultdict(int)
    nodes_by_kind: Dict[str, int] = defaultdict(int)
    macs_by_section: Dict[str, int] = defaultdict(int)
    other_elements = 0

    for node in graph.node:
        if node.op_type == "Constant":
            continue
        if node.op_type in PARAMETER_OPS:
            for name in node.input[1:]:
                if name in constants:
                    shared[name] = constants[name]
                elif name in frame_inputs and node.op_type in ("Conv", "ConvTranspose"):
                    per_identity[name] = int(np.prod(shapes[name]))
        out_elements = int(np.prod(shapes[node.output[0]]))
        kind, macs = node.op_type, 0
        if node.op_type == "Conv":
            weight = shapes[node.input[1]]
            groups = _attribute(node, "group", 1)
            macs = out_elements * int(np.prod(weight[1:]))
            if groups > 1 and weight[1] == 1:
                kind = "Conv depthwise"
            elif weight[2:] == [1, 1]:
                kind = "Conv 1x1"
            else:
                kind = "Conv"
        elif node.op_type == "ConvTranspose":
            weight = shapes[node.input[1]]
            macs = int(np.prod(shapes[node.input[0]])) * int(np.prod(weight[1:]))
        elif node.op_type == "Gemm":
            a = shapes[node.input[0]]
            macs = out_elements * (a[0] if _attribute(node, "transA", 0) else a[1])
        elif node.op_type == "MatMul":
            macs = out_elements * shapes[node.input[0]][-1]
        elif node.op_type == "BatchNormalization":
            macs = out_elements
        else:
            other_elements += out_elements
            continue
        macs_by_kind[kind] += macs
        nodes_by_kind[kind] += 1
        macs_by_section[_section(node.name)] += macs

    shared_count = int(sum(array.size for array in shared.values()))
    zero_count = int(sum(array.size for array in shared.values() if not np.any(array)))
    per_identity_count = int(sum(per_identity.values()))
    total_macs = int(sum(macs_by_kind.values()))
    return {
        "file": str(path),
        "frame_inputs": {name: shapes[name] for name in frame_inputs if name not in per_identity},
        "params": {
            "shared": shared_count,
            "shared_all_zero": zero_count,
            "per_identity": per_identity_count,
            "total": shared_count + per_identity_count,
        },
        "per_identity_tensors": per_identity,
        "macs": {
            "total": total_macs,
            "by_op": {kind: {"nodes": nodes_by_kind[kind], "macs": macs_by_kind[kind]} for kind in sorted(macs_by_kind)},
            "by_section": dict(sorted(macs_by_section.items())),
        },
        "other_output_elements": other_elements,
    }


def format_table(report: Dict) -> str:
    params, macs = report["params"], report["macs"]
    lines = [
        f"{report['file']}",
        "  frame inputs: " + ", ".join(f"{n} {s}" for n, s in report["frame_inputs"].items()),
        "",
        f"  {'parameters':<34}{'count':>14}",
        f"  {'shared (in the graph)':<34}{params['shared']:>14,}",
        f"  {'  of which all-zero biases':<34}{params['shared_all_zero']:>14,}",
        f"  {'per-identity (18 input tensors)':<34}{params['per_identity']:>14,}",
        f"  {'total':<34}{params['total']:>14,}   ({params['total'] / 1e6:.3f} M)",
        "",
        f"  {'MACs per frame, by op':<26}{'nodes':>8}{'MACs':>14}",
    ]
    for kind, row in macs["by_op"].items():
        lines.append(f"  {kind:<26}{row['nodes']:>8}{row['macs']:>14,}")
    lines.append(f"  {'total':<26}{'':>8}{macs['total']:>14,}   ({macs['total'] / 1e9:.4f} G)")
    lines += ["", f"  {'MACs per frame, by section':<34}{'MACs':>14}"]
    for section, value in macs["by_section"].items():
        lines.append(f"  {section:<34}{value:>14,}   ({value / 1e9:.4f} G)")
    lines += ["", f"  not MACs (resize, activations, concat, blend): {report['other_output_elements']:,} output elements"]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Parameters and MACs per frame of generator.onnx.")
    parser.add_argument("path", type=Path, help="an export directory (uses its generator.onnx) or an .onnx file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    path = args.path / "generator.onnx" if args.path.is_dir() else args.path
    report = count_graph(path)
    sys.stdout.write((json.dumps(report, indent=2) if args.json else format_table(report)) + "\n")


if __name__ == "__main__":
    main()
