"""Tests for models/identity_encoder (converted FaceRes backbone + OfflineIdentityEncoder adapter)."""
import itertools
import json
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(MODELS)
if MODELS not in sys.path:
    sys.path.insert(0, MODELS)

from identity_encoder import faceres as FR  # noqa: E402
from identity_encoder.adapter import OfflineIdentityEncoder  # noqa: E402

HERE = os.path.join(MODELS, "identity_encoder")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="module")
def encoder():
    return OfflineIdentityEncoder().eval()


def test_weights_small_enough():
    assert os.path.getsize(FR.ONNX_PATH) < 10e6


def test_torch_matches_onnxruntime_on_random_input(encoder):
    ort = pytest.importorskip("onnxruntime")
    x = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        emb, fmap = encoder.backbone(x)
    sess = ort.InferenceSession(FR.ONNX_PATH, providers=["CPUExecutionProvider"])
    r_emb, r_fmap = sess.run(FR.OUTPUT_NAMES, {"input": x.numpy()})
    assert emb.shape == (2, 1024) and fmap.shape == (2, 1024, 7, 7)
    assert np.abs(emb.numpy() - r_emb).max() < 1e-4
    assert np.abs(fmap.numpy() - r_fmap).max() < 1e-3  # values in [0, 6]


def test_torch_matches_original_tfjs_reference(encoder):
    """tfjs_reference.npz: outputs of the ORIGINAL TFJS model (tfjs-core 4.22 CPU backend, via
    convert.py --verify-tfjs) for the aligned public-domain astronaut + a seeded noise image."""
    ref = np.load(os.path.join(HERE, "tfjs_reference.npz"))
    x = torch.from_numpy(ref["input_nhwc_uint8"].astype(np.float32)).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        emb, fmap = encoder.backbone(x)
    assert np.abs(emb.numpy() - ref["embedding"]).max() < 1e-4
    assert np.abs(fmap.numpy() - ref["fmap_nchw"].astype(np.float32)).max() < 1e-2  # reference stored fp16


def test_adapter_shapes_norms_and_gradients(encoder):
    x = torch.rand(2, 3, 224, 224, requires_grad=True)
    emb, fmap = encoder(x)
    assert emb.shape == (2, 512) and fmap.shape == (2, 512, 7, 7)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    raw = encoder.raw_embedding(x)
    assert raw.shape == (2, 1024)
    assert torch.allclose(raw.norm(dim=1), torch.ones(2), atol=1e-5)
    (emb.sum() + fmap.mean() + raw.sum()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # identity loss can reach the generator
    assert all(not p.requires_grad for p in encoder.backbone.parameters())
    assert encoder.embed_proj.weight.grad is not None and encoder.fmap_proj.weight.grad is not None
    encoder.train()
    assert not encoder.backbone.training
    encoder.eval()


def _aligned(path, points):
    cv2 = pytest.importorskip("cv2")
    from identity_encoder.align import align_face

    img = cv2.imread(path)
    assert img is not None, path
    rgb = cv2.cvtColor(align_face(img, points, 224), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0


def test_separation_on_real_photos(encoder):
    """Same-person cosine > different-person cosine, on deepface-pairs photos from ../shared
    (5-point landmarks committed in landmarks_testdata.json; photos are never committed)."""
    shared = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "faces", "deepface-pairs"))
    if not os.path.isdir(shared):
        pytest.skip(f"../shared face photos not present ({shared}); separation check needs them")
    meta = json.load(open(os.path.join(HERE, "landmarks_testdata.json")))
    ids = meta["identities"]
    paths = {im: os.path.normpath(os.path.join(REPO, "../shared/data/faces/deepface-pairs", im))
             for ims in ids.values() for im in ims}
    missing = [p for p in paths.values() if not os.path.exists(p)]
    if missing:
        pytest.skip(f"photos missing under ../shared: {missing[:3]}")
    names = sorted(paths)
    x = torch.stack([_aligned(paths[n], meta["points"]["../shared/data/faces/deepface-pairs/" + n]) for n in names])
    with torch.no_grad():
        raw = encoder.raw_embedding(x)
        proj = encoder(x)[0]
    who = {im: k for k, ims in ids.items() for im in ims}
    for emb, margin in ((raw, 0.2), (proj, 0.15)):
        cos = emb @ emb.T
        same, diff = [], []
        for i, j in itertools.combinations(range(len(names)), 2):
            (same if who[names[i]] == who[names[j]] else diff).append(float(cos[i, j]))
        assert np.mean(same) - np.mean(diff) > margin, (np.mean(same), np.mean(diff))
        assert min(same) > max(diff), (min(same), max(diff))
