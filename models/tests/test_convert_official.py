"""Parity of the official-checkpoint converter (models/convert_official/) against REAL Paddle.

Our own Paddle definitions (convert_official/paddle_reference.py, official state-dict names
and shapes) get seeded random weights, are saved as real `.pdparams` with `paddle.save`,
converted by the CLI, and the three ONNX files (run in onnxruntime) are compared with
  * Paddle's forward pass of the same modules, and
  * an independent float64 numpy forward pass (convert_official/numpy_reference.py).
Random weights are calibrated so activations stay O(1) (no tanh/sigmoid saturation hiding
errors) while BatchNorm running stats stay far from trivial.

The named checks (BatchNorm eps, bilinear align_corners=True, demodulation eps 1e-16,
LeakyReLU 0.1, decoder concat order) also run the numpy reference with the detail made
WRONG and require it to miss the ONNX output by far more than the tolerance, so the test
data provably tells the right semantics from the wrong one.

Skips (with the reason) when paddlepaddle is not installed: setup.sh installs it from
models/requirements-paddle.txt unless GUISE_NO_PADDLE=1.
"""
import json
import os
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

MODELS = Path(__file__).resolve().parents[1]
if str(MODELS) not in sys.path:
    sys.path.insert(0, str(MODELS))

paddle = pytest.importorskip(
    "paddle", reason="paddlepaddle is not installed (models/requirements-paddle.txt; "
                     "setup.sh installs it unless GUISE_NO_PADDLE=1)")
ort = pytest.importorskip("onnxruntime")
import torch  # noqa: E402

from convert_official import convert as cv  # noqa: E402
from convert_official import numpy_reference as nr  # noqa: E402
from convert_official import paddle_reference as pr  # noqa: E402
from convert_official.arcface import IR_SE_101, IRSEArcFace  # noqa: E402
from idn.network import IDENTITY_TENSOR_NAMES  # noqa: E402

ATOL = 1e-4          # ONNX (float32) vs Paddle (float32) vs numpy (float64)
WRONG_MIN = 1e-2     # a deliberately wrong variant must miss by at least this (100 x ATOL)
ARC_LAYERS = (1, 1, 1, 1)   # small IR-SE for speed; the IR-SE-101 layout is checked separately


def maxdiff(a, b) -> float:
    """Max |a - b| over (lists of) arrays; NaN/inf count as an infinite difference."""
    if isinstance(a, (list, tuple)):
        return max(maxdiff(x, y) for x, y in zip(a, b))
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return float(np.where(np.isfinite(d), d, np.inf).max())


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


@pytest.fixture(scope="module")
def conv(tmp_path_factory):
    torch.set_num_threads(2)
    paddle.set_device("cpu")
    tmp = tmp_path_factory.mktemp("convert_official")
    fs, arc = pr.build_random_official(ARC_LAYERS, seed=0)
    fs_path, arc_path, out = tmp / "MobileFaceSwap_224.pdparams", tmp / "arcface.pdparams", tmp / "out"
    pr.save_pdparams(fs, str(fs_path))
    pr.save_pdparams(arc, str(arc_path))
    rc = cv.main(["--faceswap", str(fs_path), "--arcface", str(arc_path), "--out", str(out)])
    assert rc == 0
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sessions = {p: ort.InferenceSession(str(out / f"{p}.onnx"), so, providers=["CPUExecutionProvider"])
                for p in ("identity", "conditioner", "generator")}
    return SimpleNamespace(fs=fs, arc=arc, fs_path=fs_path, arc_path=arc_path, out=out, ort=sessions,
                           sd=cv.load_pdparams(fs_path), asd=cv.load_pdparams(arc_path))


# ---- inputs ---------------------------------------------------------------------------------
def faces():
    rng = np.random.default_rng(11)
    return {"smooth": pr.smooth_images(1, 101),
            "noise": rng.uniform(0, 1, (1, 3, 224, 224)).astype(np.float32)}


def targets():
    rng = np.random.default_rng(12)
    return {"smooth": pr.smooth_images(1, 201),
            "noise": rng.uniform(0, 1, (1, 3, 224, 224)).astype(np.float32)}


# ---- runners ----------------------------------------------------------------------------------
def run_identity(c, face):
    return c.ort["identity"].run(["embedding", "feature_map"], {"face": face})


def run_conditioner(c, emb, fmap):
    return c.ort["conditioner"].run(list(IDENTITY_TENSOR_NAMES), {"embedding": emb, "feature_map": fmap})


def run_generator(c, target, pack):
    feeds = {"target": target}
    feeds.update({n: np.asarray(a, np.float32) for n, a in zip(IDENTITY_TENSOR_NAMES, pack)})
    return c.ort["generator"].run(["swapped", "mask"], feeds)


def paddle_identity(c, face):
    with paddle.no_grad():
        e, f = pr.identity_from_224(c.arc, face)
    return _np(e), _np(f)


def paddle_conditioner(c, emb, fmap):
    with paddle.no_grad():
        return [_np(t) for t in c.fs.identity_params(paddle.to_tensor(emb), paddle.to_tensor(fmap))]


def paddle_generator(c, target, pack):
    with paddle.no_grad():
        idn = pr.PaddleIDN(c.fs, [paddle.to_tensor(np.asarray(a, np.float32)) for a in pack])
        r, m = idn(paddle.to_tensor(target))
    return _np(r), _np(m)


@pytest.fixture(scope="module")
def pack(conv):
    """A realistic identity pack: the converted identity + conditioner on a smooth face."""
    emb, fmap = run_identity(conv, faces()["smooth"])
    return run_conditioner(conv, emb, fmap)


# ---- files and layout -------------------------------------------------------------------------
def test_outputs_and_manifest(conv):
    manifest = json.loads((conv.out / "manifest.json").read_text())
    assert manifest["weights"] == "converted"
    assert set(manifest["files"]) == {"identity.onnx", "conditioner.onnx", "generator.onnx"}
    assert manifest["identity_tensors"] == list(IDENTITY_TENSOR_NAMES)
    src = manifest["converted_from"]
    assert src["faceswap"]["sha256"] == cv._sha256(conv.fs_path)
    assert src["arcface"]["layers"] == list(ARC_LAYERS)
    gen_inputs = [i.name for i in conv.ort["generator"].get_inputs()]
    assert gen_inputs == ["target"] + list(IDENTITY_TENSOR_NAMES)


def test_pdparams_are_plain_numpy_pickles(conv):
    """The converter reads Paddle's files without paddle: pickled dicts of numpy arrays
    (plus Paddle's name table); PReLU's `_weight` is read as `weight`."""
    raw = pickle.load(open(conv.arc_path, "rb"))
    assert "prelu._weight" in raw and raw["fc.weight"].shape == (25088, 512)  # Paddle [in, out]
    assert "prelu.weight" in conv.asd and "StructuredToParameterName@@" not in conv.asd


def test_official_layout_sizes():
    """Our Paddle definitions reproduce the official sizes the spec quotes: the full
    BuildFaceSwap state dict is 83 MB (predictor + modulations ~20.6M params) and IR-SE-101
    ([3,4,23,3]) is 209 MB."""
    fs = pr.BuildFaceSwap()
    n_fs = sum(int(np.prod(v.shape)) for v in fs.state_dict().values())
    n_pred = sum(int(np.prod(v.shape)) for k, v in fs.state_dict().items() if not k.startswith(("final.", "mask.")))
    arc = pr.ArcFaceIRSE(IR_SE_101)
    arc_sd = arc.state_dict()
    n_arc = sum(int(np.prod(v.shape)) for v in arc_sd.values())
    assert abs(n_fs * 4 / 1e6 - 83) < 0.5 and abs(n_pred / 1e6 - 20.6) < 0.1
    assert abs(n_arc * 4 / 1e6 - 209) < 0.5
    assert tuple(arc_sd["conv1.weight"].shape) == (64, 3, 3, 3) and tuple(arc_sd["fc.weight"].shape) == (25088, 512)


def test_irse101_names_map_onto_torch_module():
    """Every IR-SE-101 official key maps 1:1 onto IRSEArcFace (BN stats renamed, PReLU
    `_weight`, Linear transposed) and nothing is left over either way."""
    official = {k[: -len("._weight")] + ".weight" if k.endswith("._weight") else k: tuple(v.shape)
                for k, v in pr.ArcFaceIRSE(IR_SE_101).state_dict().items()}
    module = IRSEArcFace(IR_SE_101)
    linear = cv._linear_weight_keys(module)
    mapped = {}
    for tkey, tval in module.state_dict().items():
        okey = cv.official_key(tkey)
        if okey is not None:
            mapped[okey] = tuple(tval.shape)[::-1] if tkey in linear else tuple(tval.shape)
    assert mapped == official


def test_faceswap_names_map_onto_torch_modules(conv):
    """Every BuildFaceSwap key is used by the IIM (predictor / modulations) or the IDN
    (final / mask) with no leftovers."""
    from idn.config import IdnConfig
    from idn.iim import IdentityInjectionModule
    from idn.network import IdentityAwareDynamicNetwork
    iim, idn = IdentityInjectionModule(IdnConfig()), IdentityAwareDynamicNetwork(IdnConfig())
    used = cv.load_official_into(iim, conv.sd, cv.IIM_PREFIXES) | cv.load_official_into(idn, conv.sd, cv.IDN_PREFIXES)
    assert used == set(conv.sd)
    # Paddle Linear [in, out] -> torch [out, in]
    np.testing.assert_array_equal(iim.EncoderModulation[2].style.weight.detach().numpy(),
                                  conv.sd["EncoderModulation.2.style.weight"].T)


# ---- parity: ONNX vs Paddle vs numpy ----------------------------------------------------------
def test_irse101_full_depth_parity(conv, tmp_path):
    """The real IR-SE-101 depth ([3,4,23,3], a 209 MB .pdparams) converts and matches Paddle
    and numpy (feature-map tolerance relative to its scale: 33 blocks of float32)."""
    paddle.seed(7)
    arc = pr.ArcFaceIRSE(IR_SE_101)
    arc.eval()
    pr.randomize(arc, 8)
    calib = pr.smooth_images(2, 9)
    pr.calibrate_batchnorms(arc, lambda: pr.identity_from_224(arc, calib), 10)
    arc_path = tmp_path / "arcface.pdparams"
    pr.save_pdparams(arc, str(arc_path))
    cv.convert(conv.fs_path, arc_path, tmp_path / "out", parts=("identity",))
    sess = ort.InferenceSession(str(tmp_path / "out" / "identity.onnx"), providers=["CPUExecutionProvider"])
    face = faces()["smooth"]
    oe, of = sess.run(["embedding", "feature_map"], {"face": face})
    pe, pf = paddle_identity(SimpleNamespace(arc=arc), face)
    ne, nf = nr.identity_forward(cv.load_pdparams(arc_path), face)
    tol_f = ATOL * max(1.0, float(np.abs(nf).max()))
    assert maxdiff(oe, pe) < ATOL and maxdiff(oe, ne) < ATOL, (maxdiff(oe, pe), maxdiff(oe, ne))
    assert maxdiff(of, pf) < tol_f and maxdiff(of, nf) < tol_f, (maxdiff(of, pf), maxdiff(of, nf), tol_f)



@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_identity_parity(conv, kind):
    face = faces()[kind]
    oe, of = run_identity(conv, face)
    pe, pf = paddle_identity(conv, face)
    ne, nf = nr.identity_forward(conv.asd, face)
    assert of.shape == (1, 512, 7, 7) and oe.shape == (1, 512)
    assert abs(np.linalg.norm(oe) - 1) < 1e-5
    assert maxdiff(oe, pe) < ATOL and maxdiff(of, pf) < ATOL, (maxdiff(oe, pe), maxdiff(of, pf))
    assert maxdiff(oe, ne) < ATOL and maxdiff(of, nf) < ATOL, (maxdiff(oe, ne), maxdiff(of, nf))


@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_conditioner_parity(conv, kind):
    emb, fmap = paddle_identity(conv, faces()[kind])
    o = run_conditioner(conv, emb, fmap)
    p = paddle_conditioner(conv, emb, fmap)
    n = nr.conditioner_forward(conv.sd, emb, fmap)
    for name, a, b, c in zip(IDENTITY_TENSOR_NAMES, o, p, n):
        assert a.shape == b.shape == c.shape, name
        assert maxdiff(a, b) < ATOL and maxdiff(a, c) < ATOL, (name, maxdiff(a, b), maxdiff(a, c))


@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_generator_parity(conv, pack, kind):
    target = targets()[kind]
    orr, om = run_generator(conv, target, pack)
    prr, pm = paddle_generator(conv, target, pack)
    nrr, nm = nr.idn_forward(conv.sd, pack, target)
    assert 0.01 < float(om.mean()) < 0.99 and float(orr.std()) > 0.05      # not saturated
    assert maxdiff(orr, prr) < ATOL and maxdiff(om, pm) < ATOL, (maxdiff(orr, prr), maxdiff(om, pm))
    assert maxdiff(orr, nrr) < ATOL and maxdiff(om, nm) < ATOL, (maxdiff(orr, nrr), maxdiff(om, nm))


def test_end_to_end_parity(conv):
    """Source face -> identity -> conditioner -> generator, ONNX chain vs Paddle chain."""
    face, target = faces()["smooth"], targets()["smooth"]
    oe, of = run_identity(conv, face)
    orr, om = run_generator(conv, target, run_conditioner(conv, oe, of))
    pe, pf = paddle_identity(conv, face)
    prr, pm = paddle_generator(conv, target, paddle_conditioner(conv, pe, pf))
    assert maxdiff(orr, prr) < ATOL and maxdiff(om, pm) < ATOL, (maxdiff(orr, prr), maxdiff(om, pm))


# ---- the details a converter must get right -----------------------------------------------------
def _right_and_wrong(onnx_out, right, wrongs):
    assert maxdiff(onnx_out, right) < ATOL, maxdiff(onnx_out, right)
    for label, wrong in wrongs.items():
        assert maxdiff(onnx_out, wrong) > WRONG_MIN, f"test data cannot tell {label} apart"


def test_batchnorm_eps(conv, pack):
    """BN eps 1e-5 (Paddle's default) in ArcFace, the predictor and the heads; the running
    variances go down to 1e-6 so eps 0 or 1e-3 give visibly different outputs."""
    assert min(float(v.min()) for k, v in conv.sd.items() if k.endswith("._variance")) < 1e-5
    face, target = faces()["smooth"], targets()["smooth"]
    oe, of = run_identity(conv, face)
    _right_and_wrong(of, nr.identity_forward(conv.asd, face)[1],
                     {f"eps={e}": nr.identity_forward(conv.asd, face, bn_eps=e)[1] for e in (0.0, 1e-3)})
    o = run_conditioner(conv, oe, of)
    _right_and_wrong(o, nr.conditioner_forward(conv.sd, oe, of),
                     {f"eps={e}": nr.conditioner_forward(conv.sd, oe, of, bn_eps=e) for e in (0.0, 1e-3)})
    _right_and_wrong(run_generator(conv, target, pack), nr.idn_forward(conv.sd, pack, target),
                     {f"eps={e}": nr.idn_forward(conv.sd, pack, target, bn_eps=e) for e in (0.0, 1e-3)})


def test_bilinear_align_corners(conv, pack):
    """Every x2 upsample (decoder, final head, mask head) is bilinear with align_corners=True."""
    target = targets()["smooth"]
    _right_and_wrong(run_generator(conv, target, pack), nr.idn_forward(conv.sd, pack, target),
                     {"align_corners=False": nr.idn_forward(conv.sd, pack, target, align_corners=False)})
    # and the ONNX mask (mask head only: upsamples + convs) also tells them apart on its own
    om = run_generator(conv, target, pack)[1]
    assert maxdiff(om, nr.idn_forward(conv.sd, pack, target, align_corners=False)[1]) > WRONG_MIN


def test_modulation_eps(conv):
    """Demodulation W'' = W' / sqrt(sum W'^2 + 1e-16): EncoderModulation.0 has an all-zero
    output channel (must come out 0, not NaN) and one with |w| ~ 1e-9, whose result is set
    by the eps (eps 0 would make it unit-norm, 1e-12 almost zero)."""
    emb, fmap = paddle_identity(conv, faces()["smooth"])
    o = run_conditioner(conv, emb, fmap)
    enc_pw_0 = o[IDENTITY_TENSOR_NAMES.index("enc_pw_0")]
    assert np.all(np.isfinite(enc_pw_0)) and np.all(enc_pw_0[0] == 0)
    assert 0.05 < float(np.linalg.norm(enc_pw_0[1])) < 0.5           # neither 0 nor unit norm
    assert abs(float(np.linalg.norm(enc_pw_0[2])) - 1) < 1e-5           # normal rows: unit norm
    _right_and_wrong(o, nr.conditioner_forward(conv.sd, emb, fmap),
                     {f"mod_eps={e}": nr.conditioner_forward(conv.sd, emb, fmap, mod_eps=e)
                      for e in (0.0, 1e-8, 1e-12)})


def test_leaky_relu_slope(conv, pack):
    """LeakyReLU(0.1) in the IDN, its heads and the weight predictor; the inputs are
    normalised to [-1, 1], so plenty of pre-activations are negative."""
    emb, fmap = paddle_identity(conv, faces()["smooth"])
    _right_and_wrong(run_conditioner(conv, emb, fmap), nr.conditioner_forward(conv.sd, emb, fmap),
                     {f"slope={s}": nr.conditioner_forward(conv.sd, emb, fmap, slope=s) for s in (0.01, 0.2)})
    target = targets()["noise"]
    _right_and_wrong(run_generator(conv, target, pack), nr.idn_forward(conv.sd, pack, target),
                     {f"slope={s}": nr.idn_forward(conv.sd, pack, target, slope=s) for s in (0.01, 0.2, 0.0)})


def test_decoder_concat_order(conv, pack):
    """After decoder blocks 0..2: concat(decoder output, encoder skip). With the skip and
    the decoder output holding different content, swapping the order changes the result."""
    target = targets()["smooth"]
    out = run_generator(conv, target, pack)
    right = nr.idn_forward(conv.sd, pack, target)
    wrong = nr.idn_forward(conv.sd, pack, target, skip_first=True)
    _right_and_wrong(out[0], right[0], {"skip-first concat": wrong[0]})
    assert maxdiff(out[1], wrong[1]) < ATOL   # the mask head never sees the decoder


# ---- converter error handling -------------------------------------------------------------------
def test_rejects_pickles_that_are_not_plain_arrays(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    path = tmp_path / "evil.pdparams"
    path.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(pickle.UnpicklingError):
        cv.load_pdparams(path)


def test_missing_or_misshapen_keys_are_errors(conv):
    sd = dict(conv.sd)
    del sd["mask.2.3._variance"]
    with pytest.raises(cv.ConversionError, match=r"mask\.2\.3\._variance"):
        cv.build_modules(sd, conv.asd)
    asd = dict(conv.asd)
    asd["fc.weight"] = asd["fc.weight"].T.copy()       # torch layout: wrong for Paddle
    with pytest.raises(cv.ConversionError, match=r"fc\.weight.*\[in, out\]"):
        cv.build_modules(conv.sd, asd)
    asd = dict(conv.asd, **{"conv1.bias": np.zeros(64, np.float32)})   # a parameter we lack
    with pytest.raises(cv.ConversionError, match=r"conv1\.bias"):
        cv.build_modules(conv.sd, asd)
    cv.build_modules(conv.sd, asd, ignore_unused=True)


def test_absent_conv_bias_is_zero(conv):
    """A conv built without bias (no `.bias` key) runs with zero bias."""
    sd = dict(conv.sd)
    del sd["mask.0.1.bias"]
    _, _, idn = cv.build_modules(sd, conv.asd)
    assert not idn.mask[0][1].bias.detach().any()
