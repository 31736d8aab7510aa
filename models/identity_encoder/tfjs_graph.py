"""TFJS graph-model -> PyTorch nn.Module and -> ONNX (onnx.helper), our own op mapping.

Both builders walk the same parsed graph (`model.json` modelTopology.node) but map ops
independently (torch functional ops vs ONNX nodes), so torch-vs-onnxruntime parity is a
real check of the conversion. Supported ops are those used by the face-recognition
graphs we convert (MobileNet-style convnets):
  Placeholder Const Conv2D DepthwiseConv2dNative Add AddV2 Sub Mul Minimum Maximum
  Relu Relu6 Sigmoid Softmax Mean Pad Reshape MatMul _FusedMatMul(BiasAdd[,Relu]) Identity
Layout: TF graphs are NHWC; we run everything NCHW. 4-D tensors are tracked as NCHW;
per-channel constants are broadcast as [1,C,1,1]; axis/paddings/flatten are remapped.
"""
from __future__ import annotations

import base64
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1, -1: 1, -2: 3, -3: 2}


def _s(attr: dict, key: str, default=None):
    v = attr.get(key)
    if v is None:
        return default
    return base64.b64decode(v["s"]).decode()


def _ints(attr: dict, key: str, default=None):
    v = attr.get(key)
    if v is None or "list" not in v:
        return default
    return [int(i) for i in v["list"].get("i", [])]


def _fused_ops(attr: dict) -> List[str]:
    v = attr.get("fused_ops")
    if not v:
        return []
    return [base64.b64decode(s).decode() for s in v["list"].get("s", [])]


def _clean(name: str) -> str:
    return name.split(":")[0]


def same_pads(in_size: int, k: int, s: int, d: int = 1):
    """TF 'SAME' padding: (before, after), extra pixel goes after."""
    eff = (k - 1) * d + 1
    out = -(-in_size // s)
    total = max((out - 1) * s + eff - in_size, 0)
    return total // 2, total - total // 2


def topo_nodes(model: dict, outputs: Sequence[str]) -> List[dict]:
    """Nodes needed to compute `outputs`, in dependency order."""
    nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
    order, seen = [], set()

    def visit(name):
        name = _clean(name).lstrip("^")
        if name in seen:
            return
        seen.add(name)
        for i in nodes[name].get("input", []):
            visit(i)
        order.append(nodes[name])

    for o in outputs:
        visit(o)
    return order


class TFJSGraphModule(nn.Module):
    """Executes a TFJS graph with torch ops (differentiable). Input NCHW float tensor in the
    graph's own value range; returns the requested node outputs (4-D ones as NCHW)."""

    def __init__(self, model: dict, weights: Dict[str, np.ndarray], outputs: Sequence[str],
                 trainable: bool = False):
        super().__init__()
        self.outputs = [_clean(o) for o in outputs]
        self.nodes = [
            {"name": n["name"], "op": n["op"], "input": [_clean(i) for i in n.get("input", [])],
             "attr": n.get("attr", {})}
            for n in topo_nodes(model, self.outputs)
        ]
        self._pname: Dict[str, str] = {}
        for n in self.nodes:
            if n["op"] != "Const":
                continue
            arr = weights[n["name"]]
            key = "w%03d" % len(self._pname)
            self._pname[n["name"]] = key
            t = torch.from_numpy(np.array(arr, copy=True))
            if t.is_floating_point():
                t = self._to_torch_layout(n["name"], t)
                self.register_parameter(key, nn.Parameter(t, requires_grad=trainable))
            else:
                self.register_buffer(key, t)

    # Pre-transform kernels so forward() does no per-call permutes.
    def _consumer_ops(self, const_name):
        return [(n["op"], n["input"].index(const_name)) for n in self.nodes if const_name in n["input"]]

    def _to_torch_layout(self, name, t):
        uses = self._consumer_ops(name)
        ops = {u for u in uses}
        if ops and all(op == "Conv2D" and idx == 1 for op, idx in ops):
            return t.permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
        if ops and all(op == "DepthwiseConv2dNative" and idx == 1 for op, idx in ops):
            kh, kw, c, m = t.shape
            return t.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw).contiguous()
        return t

    def const(self, name):
        return getattr(self, self._pname[name])

    def forward(self, x: torch.Tensor):
        env: Dict[str, torch.Tensor] = {}
        for n in self.nodes:
            op, name, ins, a = n["op"], n["name"], n["input"], n["attr"]
            if op == "Const":
                env[name] = self.const(name)
            elif op == "Placeholder":
                env[name] = x
            elif op in ("Conv2D", "DepthwiseConv2dNative"):
                inp, w = env[ins[0]], env[ins[1]]
                st = _ints(a, "strides", [1, 1, 1, 1])[1:3]
                dl = _ints(a, "dilations", [1, 1, 1, 1])[1:3]
                if _s(a, "data_format", "NHWC") != "NHWC":
                    raise NotImplementedError("only NHWC graphs")
                groups = inp.shape[1] if op == "DepthwiseConv2dNative" else 1
                pad = _s(a, "padding", "VALID")
                if pad == "SAME":
                    ph = same_pads(inp.shape[2], w.shape[2], st[0], dl[0])
                    pw = same_pads(inp.shape[3], w.shape[3], st[1], dl[1])
                    if ph[0] == ph[1] and pw[0] == pw[1]:
                        y = F.conv2d(inp, w, None, st, (ph[0], pw[0]), dl, groups)
                    else:
                        y = F.conv2d(F.pad(inp, (pw[0], pw[1], ph[0], ph[1])), w, None, st, 0, dl, groups)
                elif pad == "VALID":
                    y = F.conv2d(inp, w, None, st, 0, dl, groups)
                else:
                    raise NotImplementedError(f"padding {pad}")
                env[name] = y
            elif op in ("Add", "AddV2", "Sub", "Mul", "Minimum", "Maximum", "BiasAdd"):
                p, q = self._bcast(env[ins[0]], env[ins[1]])
                env[name] = {"Add": torch.add, "AddV2": torch.add, "BiasAdd": torch.add, "Sub": torch.sub,
                             "Mul": torch.mul, "Minimum": torch.minimum, "Maximum": torch.maximum}[op](p, q)
            elif op == "Relu":
                env[name] = F.relu(env[ins[0]])
            elif op == "Relu6":
                env[name] = F.relu6(env[ins[0]])
            elif op == "Sigmoid":
                env[name] = torch.sigmoid(env[ins[0]])
            elif op == "Softmax":
                env[name] = torch.softmax(env[ins[0]], dim=-1)
            elif op == "Identity":
                env[name] = env[ins[0]]
            elif op == "Mean":
                t = env[ins[0]]
                axes = [int(v) for v in env[ins[1]].reshape(-1).tolist()]
                if t.dim() == 4:
                    axes = [_NHWC_TO_NCHW_AXIS[v] for v in axes]
                keep = a.get("keep_dims", {}).get("b", False)
                env[name] = t.mean(dim=axes, keepdim=keep)
            elif op == "Pad":
                t = env[ins[0]]
                p = env[ins[1]].tolist()  # NHWC [[n0,n1],[h0,h1],[w0,w1],[c0,c1]]
                assert p[0] == [0, 0] and p[3] == [0, 0], "only spatial padding"
                env[name] = F.pad(t, (p[2][0], p[2][1], p[1][0], p[1][1]))
            elif op == "Reshape":
                t = env[ins[0]]
                if t.dim() == 4:
                    t = t.permute(0, 2, 3, 1)  # back to NHWC order before flattening
                env[name] = t.reshape([int(v) for v in env[ins[1]].tolist()])
            elif op in ("MatMul", "_FusedMatMul"):
                if a.get("transpose_a", {}).get("b") or a.get("transpose_b", {}).get("b"):
                    raise NotImplementedError("transposed MatMul")
                y = env[ins[0]] @ env[ins[1]]
                fused = _fused_ops(a) if op == "_FusedMatMul" else []
                for f in fused:
                    if f == "BiasAdd":
                        y = y + env[ins[2]]
                    elif f == "Relu":
                        y = F.relu(y)
                    else:
                        raise NotImplementedError(f"_FusedMatMul {f}")
                env[name] = y
            else:
                raise NotImplementedError(f"op {op} ({name})")
        res = [env[o] for o in self.outputs]
        return res[0] if len(res) == 1 else tuple(res)

    @staticmethod
    def _bcast(p, q):
        def fix(c, other):
            if other.dim() == 4 and c.dim() == 1 and c.numel() > 1:
                return c.view(1, -1, 1, 1)
            if other.dim() == 4 and c.dim() == 4 and c.shape[1] == 1 and c.shape[2] == 1 and c.shape[3] > 1:
                return c.permute(0, 3, 1, 2)
            return c
        return fix(p, q), fix(q, p)


# ----------------------------------------------------------------------------- ONNX
FP16_SUFFIX = "__fp16"


def weights_from_onnx(onnx_model, model: dict) -> Dict[str, np.ndarray]:
    """Recover the TFJS-layout float weights {const name: array} from an ONNX file written by
    to_onnx (initializers are named `<const>|<layout>`, optionally stored fp16 + Cast).
    Shapes come from the TFJS weightsManifest; int consts (paddings, axes) are taken
    from the manifest-described graph too, so callers pass `model` with its manifest and
    get back only the float consts (merge with int consts from `int_consts_from_manifest`)."""
    from onnx import numpy_helper

    shapes = {w["name"]: [int(d) for d in w["shape"]] for g in model["weightsManifest"] for w in g["weights"]}
    out: Dict[str, np.ndarray] = {}
    for init in onnx_model.graph.initializer:
        name = init.name
        arr = numpy_helper.to_array(init)
        if name.endswith(FP16_SUFFIX):
            name, arr = name[: -len(FP16_SUFFIX)], arr.astype(np.float32)
        if "|" not in name:
            continue
        const, tag = name.rsplit("|", 1)
        if tag == "oihw":
            arr = arr.transpose(2, 3, 1, 0)
        elif tag == "dw_oihw":
            kh, kw, c, m = shapes[const]
            arr = arr.reshape(c, m, kh, kw).transpose(2, 3, 0, 1)
        elif tag == "nchw":
            arr = arr.transpose(0, 2, 3, 1)
        out[const] = np.ascontiguousarray(arr.reshape(shapes[const]))
    return out


def module_from_onnx(path: str, outputs: Optional[Sequence[str]] = None, trainable: bool = False) -> "TFJSGraphModule":
    """Rebuild the torch module from an ONNX file written by to_onnx: topology from its
    metadata (the original TFJS graph), weights from its initializers."""
    import json
    import onnx

    om = onnx.load(path)
    props = {p.key: p.value for p in om.metadata_props}
    model = json.loads(props["tfjs_model_json"])
    w = weights_from_onnx(om, model)
    for k, v in json.loads(props["tfjs_int_consts"]).items():
        w[k] = np.asarray(v, np.int32)
    return TFJSGraphModule(model, w, outputs or json.loads(props["tfjs_outputs"]), trainable=trainable)

def to_onnx(model: dict, weights: Dict[str, np.ndarray], outputs: Sequence[str], input_hw,
            output_names: Optional[Sequence[str]] = None, input_name: str = "input",
            weight_dtype=np.float32, opset: int = 13):
    """Build an ONNX ModelProto (NCHW input [N,3,H,W]) with onnx.helper.
    weight_dtype=np.float16 stores float weights as fp16 initializers + Cast (halves file
    size; exact when the TFJS weights were fp16-quantised to begin with)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    outs = [_clean(o) for o in outputs]
    output_names = list(output_names or outs)
    nodes_in = topo_nodes(model, outs)
    inits, nodes, shapes = [], [], {}
    cnt = [0]

    def uniq(p):
        cnt[0] += 1
        return f"{p}_{cnt[0]}"

    added = {}

    def add_init(name, arr):
        """Initializer named `<tfjs const>|<layout>` (see weights_from_onnx); deduplicated."""
        if name in added:
            return added[name]
        arr = np.ascontiguousarray(arr)
        if arr.dtype == np.float32 and weight_dtype == np.float16 and arr.size > 1:
            h = name + FP16_SUFFIX
            inits.append(numpy_helper.from_array(arr.astype(np.float16), h))
            nodes.append(helper.make_node("Cast", [h], [name], to=TensorProto.FLOAT))
        else:
            inits.append(numpy_helper.from_array(arr, name))
        added[name] = name
        return name

    consts = {}
    H, W = input_hw
    for n in nodes_in:
        op, name, a = n["op"], n["name"], n.get("attr", {})
        ins = [_clean(i) for i in n.get("input", [])]
        if op == "Const":
            consts[name] = weights[name]
            continue
        if op == "Placeholder":
            nodes.append(helper.make_node("Identity", [input_name], [name]))
            shapes[name] = ("nchw", [None, 3, H, W])
            continue

        def val(i):  # materialise a const initializer on demand, in the layout needed
            return consts[i]

        if op in ("Conv2D", "DepthwiseConv2dNative"):
            x, wname = ins[0], ins[1]
            w = val(wname)
            st = _ints(a, "strides")[1:3]
            dl = _ints(a, "dilations", [1, 1, 1, 1])[1:3]
            _, (_, c, h, ww) = shapes[x]
            if op == "Conv2D":
                wt = w.transpose(3, 2, 0, 1)
                groups = 1
            else:
                kh, kw, cc, m = w.shape
                wt = w.transpose(2, 3, 0, 1).reshape(cc * m, 1, kh, kw)
                groups = cc
            winit = add_init(wname + ("|oihw" if op == "Conv2D" else "|dw_oihw"), wt)
            pad = _s(a, "padding")
            if pad == "SAME":
                ph = same_pads(h, wt.shape[2], st[0], dl[0])
                pw = same_pads(ww, wt.shape[3], st[1], dl[1])
                pads = [ph[0], pw[0], ph[1], pw[1]]
            else:
                pads = [0, 0, 0, 0]
            nodes.append(helper.make_node("Conv", [x, winit], [name], strides=st, dilations=dl, pads=pads,
                                          group=groups, kernel_shape=list(wt.shape[2:])))
            eff = [(k - 1) * d + 1 for k, d in zip(wt.shape[2:], dl)]
            oh = (h + pads[0] + pads[2] - eff[0]) // st[0] + 1
            ow = (ww + pads[1] + pads[3] - eff[1]) // st[1] + 1
            shapes[name] = ("nchw", [None, wt.shape[0], oh, ow])
        elif op in ("Add", "AddV2", "Sub", "Mul", "Minimum", "Maximum", "BiasAdd"):
            names, ref = [], None
            for i in ins:
                if i in shapes:
                    ref = shapes[i]
            for i in ins:
                if i in consts:
                    c = val(i).astype(np.float32)
                    tag = "|raw"
                    if ref[0] == "nchw" and c.ndim == 1 and c.size > 1:
                        c, tag = c.reshape(1, -1, 1, 1), "|c11"
                    elif ref[0] == "nchw" and c.ndim == 4 and c.shape[3] > 1:
                        c, tag = c.transpose(0, 3, 1, 2), "|nchw"
                    names.append(add_init(i + tag, c))
                else:
                    names.append(i)
            onnx_op = {"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul",
                       "Minimum": "Min", "Maximum": "Max"}[op]
            nodes.append(helper.make_node(onnx_op, names, [name]))
            shapes[name] = ref
        elif op in ("Relu", "Sigmoid", "Identity"):
            nodes.append(helper.make_node(op, [ins[0]], [name]))
            shapes[name] = shapes[ins[0]]
        elif op == "Relu6":
            nodes.append(helper.make_node("Clip", [ins[0], add_init(uniq("zero"), np.array(0, np.float32)),
                                                   add_init(uniq("six"), np.array(6, np.float32))], [name]))
            shapes[name] = shapes[ins[0]]
        elif op == "Softmax":
            nodes.append(helper.make_node("Softmax", [ins[0]], [name], axis=-1))
            shapes[name] = shapes[ins[0]]
        elif op == "Mean":
            kind, shp = shapes[ins[0]]
            axes = [int(v) for v in np.array(val(ins[1])).reshape(-1)]
            if kind == "nchw":
                axes = [_NHWC_TO_NCHW_AXIS[v] for v in axes]
            keep = int(bool(a.get("keep_dims", {}).get("b", False)))
            nodes.append(helper.make_node("ReduceMean", [ins[0]], [name], axes=axes, keepdims=keep))
            if keep:
                shapes[name] = (kind, [1 if i in axes else s for i, s in enumerate(shp)])
            else:
                shapes[name] = ("plain", [s for i, s in enumerate(shp) if i not in axes])
        elif op == "Pad":
            p = np.array(val(ins[1])).tolist()
            pads = [0, 0, p[1][0], p[2][0], 0, 0, p[1][1], p[2][1]]
            nodes.append(helper.make_node("Pad", [ins[0], add_init(uniq(name + "_pads"), np.array(pads, np.int64))],
                                          [name], mode="constant"))
            kind, shp = shapes[ins[0]]
            shapes[name] = (kind, [shp[0], shp[1], shp[2] + p[1][0] + p[1][1], shp[3] + p[2][0] + p[2][1]])
        elif op == "Reshape":
            src = ins[0]
            if shapes[src][0] == "nchw":
                tname = uniq(name + "_nhwc")
                nodes.append(helper.make_node("Transpose", [src], [tname], perm=[0, 2, 3, 1]))
                src = tname
            shp = np.array(val(ins[1]), np.int64)
            nodes.append(helper.make_node("Reshape", [src, add_init(uniq(name + "_shape"), shp)], [name]))
            shapes[name] = ("plain", list(shp))
        elif op in ("MatMul", "_FusedMatMul"):
            y = name if op == "MatMul" else uniq(name + "_mm")
            nodes.append(helper.make_node("MatMul", [ins[0], add_init(ins[1] + "|raw", val(ins[1]))], [y]))
            for f in (_fused_ops(a) if op == "_FusedMatMul" else []):
                if f == "BiasAdd":
                    y2 = uniq(name + "_b")
                    nodes.append(helper.make_node("Add", [y, add_init(ins[2] + "|raw", val(ins[2]))], [y2]))
                elif f == "Relu":
                    y2 = uniq(name + "_r")
                    nodes.append(helper.make_node("Relu", [y], [y2]))
                else:
                    raise NotImplementedError(f)
                y = y2
            if y != name:
                nodes.append(helper.make_node("Identity", [y], [name]))
            shapes[name] = ("plain", [None, val(ins[1]).shape[1]])
        else:
            raise NotImplementedError(f"op {op} ({name})")

    graph_outputs = []
    for o, oname in zip(outs, output_names):
        if oname != o:
            nodes.append(helper.make_node("Identity", [o], [oname]))
        shp = ["N"] + [s for s in shapes[o][1][1:]]
        graph_outputs.append(helper.make_tensor_value_info(oname, TensorProto.FLOAT, shp))
    graph = helper.make_graph(nodes, "tfjs_converted",
                              [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, H, W])],
                              graph_outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="guise-identity-encoder")
    m.ir_version = 8
    # Self-contained: keep the TFJS topology + int consts so the torch module can be rebuilt
    # from this file alone (see module_from_onnx).
    import json
    needed = {n["name"] for n in nodes_in}
    ints = {k: np.asarray(v).tolist() for k, v in weights.items()
            if k in needed and not np.issubdtype(np.asarray(v).dtype, np.floating)}
    helper.set_model_props(m, {"tfjs_model_json": json.dumps(model, separators=(",", ":")),
                               "tfjs_int_consts": json.dumps(ints),
                               "tfjs_outputs": json.dumps(outs)})
    onnx.checker.check_model(m)
    return m
