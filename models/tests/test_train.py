"""The training side's pure parts: teacher swap, quality weights, NME, fp16 export.

Faces come from ../shared at run time (never committed); landmarks from the fixture.
"""
import json
import os
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from teacher.teacher import teacher_swap
from teacher.warp import topology, warp_face
from train.export_trained import weights_to_fp16
from train.quality import nme, weights_from
from train.train import hull_background

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "guide_landmarks.json").read_text())
REPO = Path(__file__).resolve().parents[2]
FACES = Path(os.environ.get("GUISE_FACES", REPO.parent / "shared" / "data" / "faces"))  # as test_guide_parity


def crop224(face: dict) -> np.ndarray:
    bgr = cv2.imread(str(FACES / face["file"]))
    m = np.array(face["toCrop224"], np.float64).reshape(2, 3)
    return cv2.cvtColor(cv2.warpAffine(bgr, m, (224, 224), flags=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def pair():
    a, b = FIXTURE["faces"][:2]
    return (crop224(a), np.array(a["landmarks224"]), crop224(b), np.array(b["landmarks224"]))


def test_teacher_changes_the_face_only(pair):
    src, src_xy, tgt, tgt_xy = pair
    out, blend = teacher_swap(src, src_xy, tgt, tgt_xy)
    outside = blend == 0
    assert np.array_equal(out[outside], tgt[outside]), "pixels outside the blend mask must be the target's"
    inside = blend.astype(bool)
    assert inside.mean() > 0.2
    assert np.abs(out[inside].astype(int) - tgt[inside].astype(int)).mean() > 5, "the face must change"
    # Towards the source: inside the face, closer to the warped source than the target was.
    warped, _ = warp_face(src, src_xy[:, :2], tgt_xy[:, :2], 224, 224)
    face = inside & (warped.sum(-1) > 0)
    grad = lambda im: cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)
    assert np.abs(grad(out) - grad(warped))[face].mean() < np.abs(grad(tgt) - grad(warped))[face].mean()


def test_teacher_passes_the_targets_mouth_interior_through(pair):
    tgt, tgt_xy, src, src_xy = pair  # the first fixture face talks, mouth open
    out, _ = teacher_swap(src, src_xy, tgt, tgt_xy)
    mouth = np.zeros((224, 224), np.uint8)
    cv2.fillPoly(mouth, [np.round(tgt_xy[topology()["innerLips"], :2]).astype(np.int32)], 1)
    mouth = cv2.erode(mouth, np.ones((5, 5), np.uint8)).astype(bool)
    assert mouth.sum() > 500, "the fixture target's mouth is open"
    # Poisson keeps gradients, so compare detail, not absolute colour.
    lap = lambda im: cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)
    detail = np.abs(lap(tgt))[mouth].mean()
    assert np.abs(lap(out) - lap(tgt))[mouth].mean() < 0.25 * detail


def test_nme_is_point_error_over_interocular_distance():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0, 100, (2, 478, 2))
    iod = np.linalg.norm(ref[:, 33] - ref[:, 263], axis=-1)
    shifted = ref + np.array([0.1, 0.0]) * iod[:, None, None]
    assert np.allclose(nme(ref, ref), 0)
    assert np.allclose(nme(shifted, ref), 0.1)
    assert np.isnan(nme(np.full_like(ref, np.nan), ref)).all()


def test_quality_weights_favour_identity_and_fit_and_floor_failures():
    cos = np.array([0.3, 0.5, 0.7, 0.7, 0.5])
    err = np.array([0.02, 0.02, 0.02, 0.08, np.nan])
    w = weights_from(cos, err)
    assert np.isclose(w.mean(), 1.0)
    assert w[2] > w[1] > w[0], "higher identity cosine, higher weight"
    assert w[2] > w[3], "worse landmark fit, lower weight"
    assert w[4] == w.min(), "no face in the teacher output: the floor"


def test_background_is_outside_the_face_oval():
    xy = np.array(FIXTURE["faces"][0]["landmarks224"])[:, :2] * 128 / 224
    bg = hull_background(xy, 128)
    nose = np.round(xy[1]).astype(int)
    assert bg[nose[1], nose[0]] == 0 and bg[0, 0] == 1
    assert 0.2 < bg.mean() < 0.9


def test_fp16_weights_keep_the_graph_and_halve_the_file(tmp_path):
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Conv2d(64, 64, 3)).eval()
    x = torch.rand(1, 3, 16, 16)
    path = tmp_path / "m.onnx"
    torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["y"], opset_version=17)
    before = path.stat().st_size
    weights_to_fp16(path, min_elements=1000)
    assert path.stat().st_size < 0.6 * before
    y = ort.InferenceSession(str(path)).run(None, {"x": x.numpy()})[0]
    assert np.abs(y - net(x).detach().numpy()).max() < 1e-2
