"""The exported ONNX files: checker, manifest, torch parity, the baked generator, the counter."""
import hashlib
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from idn import IdnConfig
from idn.count import count_graph
from idn.count import main as count_main
from idn.export import export_models, write_static_generator
from idn.export_static import main as export_static_main
from idn.network import IDENTITY_TENSOR_NAMES, identity_args, identity_tensor_shapes
from idn.random_init import build_random_models, sample_face, sample_target

PARITY_BOUND = 1e-4


def _session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def export_224(tmp_path_factory):
    config = IdnConfig(crop=224, guide_channels=0)
    models = build_random_models(config, seed=0)
    out_dir = tmp_path_factory.mktemp("idn_224")
    manifest = export_models(out_dir, config, *models, weights="random", seed=0)
    return config, models, out_dir, manifest


@pytest.fixture(scope="module")
def export_128_guided(tmp_path_factory):
    config = IdnConfig(crop=128, guide_channels=4)
    models = build_random_models(config, seed=3)
    out_dir = tmp_path_factory.mktemp("idn_128_g4")
    manifest = export_models(out_dir, config, *models, weights="random", seed=3, parts=("generator",))
    return config, models, out_dir, manifest


@pytest.fixture(scope="module")
def identity_224(export_224):
    """A second face's identity through the torch models (not the tracing sample)."""
    _, (encoder, iim, _), _, _ = export_224
    face = sample_face(seed=11)
    with torch.no_grad():
        embedding, feature_map = encoder(face)
        pack = iim.identity_pack(embedding, feature_map)
    return face, embedding, feature_map, pack


def test_files_pass_the_checker_and_the_manifest_describes_them(export_224):
    config, _, out_dir, manifest = export_224
    for name in ("identity.onnx", "conditioner.onnx", "generator.onnx"):
        onnx.checker.check_model(str(out_dir / name))
    assert json.loads((out_dir / "manifest.json").read_text()) == manifest
    assert manifest["opset"] == 17 and manifest["weights"] == "random" and manifest["seed"] == 0
    files = manifest["files"]
    assert files["identity.onnx"]["inputs"] == [{"name": "face", "shape": [1, 3, 224, 224]}]
    assert files["identity.onnx"]["outputs"] == [{"name": "embedding", "shape": [1, 512]},
                                                 {"name": "feature_map", "shape": [1, 512, 7, 7]}]
    shapes = identity_tensor_shapes(config)
    pack_values = [{"name": n, "shape": list(shapes[n])} for n in IDENTITY_TENSOR_NAMES]
    assert files["conditioner.onnx"]["outputs"] == pack_values
    assert files["generator.onnx"]["inputs"] == [{"name": "target", "shape": [1, 3, 224, 224]}] + pack_values
    assert files["generator.onnx"]["outputs"] == [{"name": "swapped", "shape": [1, 3, 224, 224]},
                                                  {"name": "mask", "shape": [1, 1, 224, 224]}]
    # The weights are named by size and hash (the app keys cached identity packs by the manifest's hash).
    for name in ("identity.onnx", "conditioner.onnx", "generator.onnx"):
        data = (out_dir / name).read_bytes()
        assert files[name]["bytes"] == len(data)
        assert files[name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_identity_parity(export_224, identity_224):
    _, _, out_dir, _ = export_224
    face, embedding, feature_map, _ = identity_224
    got_embedding, got_map = _session(out_dir / "identity.onnx").run(None, {"face": face.numpy()})
    assert np.abs(got_embedding - embedding.numpy()).max() < PARITY_BOUND
    assert np.abs(got_map - feature_map.numpy()).max() < PARITY_BOUND


def test_conditioner_parity(export_224, identity_224):
    _, _, out_dir, _ = export_224
    _, embedding, feature_map, pack = identity_224
    outputs = _session(out_dir / "conditioner.onnx").run(
        IDENTITY_TENSOR_NAMES, {"embedding": embedding.numpy(), "feature_map": feature_map.numpy()})
    for name, got in zip(IDENTITY_TENSOR_NAMES, outputs):
        assert np.abs(got - pack[name].numpy()).max() < PARITY_BOUND, name


def _generator_parity(config, idn, out_dir, pack):
    target = sample_target(config, seed=21)
    with torch.no_grad():
        result, mask = idn(target, *identity_args(pack))
    feeds = {"target": target.numpy(), **{n: pack[n].numpy() for n in IDENTITY_TENSOR_NAMES}}
    got_result, got_mask = _session(out_dir / "generator.onnx").run(["swapped", "mask"], feeds)
    assert np.abs(got_result - result.numpy()).max() < PARITY_BOUND
    assert np.abs(got_mask - mask.numpy()).max() < PARITY_BOUND


def test_generator_parity_224(export_224, identity_224):
    config, (_, _, idn), out_dir, _ = export_224
    _generator_parity(config, idn, out_dir, identity_224[3])


def test_generator_parity_128_guided(export_128_guided):
    config, (encoder, iim, idn), out_dir, _ = export_128_guided
    with torch.no_grad():
        pack = iim.identity_pack(*encoder(sample_face(seed=12)))
    _generator_parity(config, idn, out_dir, pack)


def test_generator_resizes_are_bilinear_align_corners(export_224):
    _, _, out_dir, _ = export_224
    resizes = [n for n in onnx.load(str(out_dir / "generator.onnx")).graph.node if n.op_type == "Resize"]
    assert len(resizes) == 10  # 4 decoder + 1 final + 5 mask
    for node in resizes:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attributes["mode"] == b"linear"
        assert attributes["coordinate_transformation_mode"] == b"align_corners"


def test_static_generator_equals_the_input_fed_one(export_224, identity_224, tmp_path):
    _, _, out_dir, _ = export_224
    _, embedding, feature_map, _ = identity_224
    conditioner = _session(out_dir / "conditioner.onnx")
    pack = dict(zip(IDENTITY_TENSOR_NAMES, conditioner.run(
        IDENTITY_TENSOR_NAMES, {"embedding": embedding.numpy(), "feature_map": feature_map.numpy()})))
    static_path = tmp_path / "static.onnx"
    write_static_generator(out_dir / "generator.onnx", pack, static_path)
    static = _session(static_path)
    assert [i.name for i in static.get_inputs()] == ["target"]

    target = sample_target(IdnConfig(), seed=22).numpy()
    want = _session(out_dir / "generator.onnx").run(["swapped", "mask"], {"target": target, **pack})
    got = static.run(["swapped", "mask"], {"target": target})
    for g, w in zip(got, want):
        assert np.abs(g - w).max() < 1e-5

    # The CLI reads the same pack from .npz.
    np.savez(tmp_path / "pack.npz", **pack)
    export_static_main(["--generator", str(out_dir / "generator.onnx"), "--pack", str(tmp_path / "pack.npz"),
                        "--out", str(tmp_path / "static_cli.onnx")])
    got_cli = _session(tmp_path / "static_cli.onnx").run(["swapped", "mask"], {"target": target})
    for g, c in zip(got, got_cli):
        assert np.array_equal(g, c)


def test_static_generator_rejects_a_pack_of_the_wrong_variant(export_224, tmp_path):
    _, _, out_dir, _ = export_224
    guided_shapes = identity_tensor_shapes(IdnConfig(guide_channels=4))
    pack = {name: np.zeros(shape, np.float32) for name, shape in guided_shapes.items()}
    with pytest.raises(ValueError, match="enc_dw_0"):
        write_static_generator(out_dir / "generator.onnx", pack, tmp_path / "bad.onnx")


def _analytic_macs(crop):
    """The spec's layer list, counted by hand: Conv MACs = outputs × C_in/groups × k²."""
    enc = [3, 32, 64, 128, 256, 512]
    macs, size = 0, crop
    for c_in, c_out in zip(enc[:-1], enc[1:]):
        size //= 2
        macs += size * size * (c_in * 16 + c_in * c_out)
    for c_in, c_out in zip([512, 512, 256, 128], [256, 128, 64, 32]):
        size *= 2
        macs += size * size * (c_in * 9 + c_in * c_out)
    size *= 2
    macs += size * size * (32 * 8 + 8 * 3 * 9 + 3 * 3 * 9)
    mask, size = [512, 128, 64, 32, 8, 2], crop // 32
    for c_in, c_out in zip(mask[:-1], mask[1:]):
        size *= 2
        macs += size * size * (c_in * 9 + c_in * c_out)
    return macs + size * size * 2 * 9


def test_count_224_lands_on_the_paper_figures(export_224):
    _, _, out_dir, _ = export_224
    report = count_graph(out_dir / "generator.onnx")
    params, macs = report["params"], report["macs"]
    assert params["per_identity"] == 411_664  # spec: "about 412k floats"
    assert abs(params["total"] - 0.50e6) / 0.50e6 < 0.05  # paper: 0.50M
    assert macs["total"] == _analytic_macs(224)
    assert abs(macs["total"] - 0.33e9) / 0.33e9 < 0.10  # paper: 0.33 GFLOPs (multiply-adds)
    assert abs(macs["total"] - 0.306e9) / 0.306e9 < 0.01  # the released code's count
    assert abs(macs["by_section"]["mask"] - 0.041e9) / 0.041e9 < 0.02  # spec: mask head ≈ 0.041 GMACs


def test_count_128_guided_and_the_json_cli(export_128_guided, capsys):
    _, _, out_dir, _ = export_128_guided
    count_main([str(out_dir), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["params"]["per_identity"] == 411_664 + 4 * 16 + 32 * 4
    assert report["frame_inputs"] == {"target": [1, 7, 128, 128]}
    guide_macs = 64 * 64 * (4 * 16 + 4 * 32)  # the first block's extra depthwise + 1×1 work
    assert report["macs"]["total"] == _analytic_macs(128) + guide_macs
