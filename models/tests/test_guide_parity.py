"""The app's guide warp (face/src/triangleWarp.ts, via models/teacher/warpCli.ts)
against its definition, teacher/warp.py, on real faces.

Sources are real photos from ../shared/data/faces, aligned at 224 with cv2 (the
photo -> crop affine is in the fixture); landmarks come from the committed fixture
(coordinates only, no pixels): two real 478-point sets, used as they are and moved
by a similarity that pushes part of the mesh off the crop.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from teacher.warp import warp_face

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "guide_landmarks.json"
FACES = Path(os.environ.get("GUISE_FACES", REPO.parent / "shared" / "data" / "faces"))
TSX = REPO / "node_modules" / ".bin" / "tsx"
CLI = REPO / "models" / "teacher" / "warpCli.ts"

MIN_MASK_AGREEMENT = 0.995
MAX_MEAN_RGB_DIFF = 1.0  # 8-bit levels, where both masks are 1


def _faces():
    faces = json.loads(FIXTURE.read_text())["faces"]
    out = []
    for face in faces:
        photo = FACES / face["file"]
        if not photo.exists():
            pytest.skip(f"{photo} is not here (the shared face sets live in ../shared/data/faces)")
        rgb = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        to_crop = np.asarray(face["toCrop224"], dtype=np.float64).reshape(2, 3)
        crop = cv2.warpAffine(rgb, to_crop, (224, 224), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out.append((np.ascontiguousarray(crop), np.asarray(face["landmarks224"], dtype=np.float64)))
    return out


def _similarity(xy, degrees, scale, shift):
    a = np.deg2rad(degrees)
    rot = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = xy.mean(axis=0)
    return (xy - centre) @ rot.T + centre * scale + np.asarray(shift, dtype=np.float64)


def test_ts_guide_matches_warp_py(tmp_path):
    if not TSX.exists() or shutil.which("node") is None:
        pytest.skip("node and the workspace's tsx are needed (pnpm install at the repo root)")
    (crop0, lm0), (crop1, lm1) = _faces()
    cases = {
        # The app's case: one person's 224 source onto another's landmarks in a 128 crop.
        "face0 onto face1 at 128": (crop0, lm0, lm1 * (128 / 224), 128),
        # Rotated, shrunk and pushed so that the mesh runs off the crop's left and top edges.
        "face1 onto moved face0 at 128": (crop1, lm1, _similarity(lm0 * (128 / 224), 12.0, 0.9, (-30.0, -22.0)), 128),
        "face1 onto face0 at 224": (crop1, lm1, lm0, 224),
    }
    jobs = []
    for k, (name, (src, sxy, dxy, size)) in enumerate(cases.items()):
        src_path = tmp_path / f"src{k}.rgb"
        src.tofile(src_path)
        jobs.append({"name": name, "src": str(src_path), "srcWidth": src.shape[1], "srcHeight": src.shape[0],
                     "srcXY": sxy.tolist(), "dstXY": dxy.tolist(), "width": size, "height": size,
                     "out": str(tmp_path / f"out{k}.f32")})
    jobs_path = tmp_path / "jobs.json"
    jobs_path.write_text(json.dumps(jobs))
    subprocess.run([str(TSX), str(CLI), str(jobs_path)], cwd=REPO, check=True, timeout=300)

    for job, (src, sxy, dxy, size) in zip(jobs, cases.values()):
        ref_rgb, ref_mask = warp_face(src, sxy, dxy, size, size)
        planes = np.fromfile(job["out"], dtype="<f4").reshape(4, size, size)
        ts_rgb = np.rint(planes[:3] * 255).transpose(1, 2, 0)
        ts_mask = planes[3]
        assert set(np.unique(ts_mask)) <= {0.0, 1.0}
        both = (ts_mask == 1) & (ref_mask == 1)
        agreement = float((ts_mask == ref_mask).mean())
        diff = np.abs(ts_rgb - ref_rgb.astype(np.float64))[both]
        print(f"{job['name']}: mask agreement {agreement:.6f} ({int((ts_mask != ref_mask).sum())} px differ), "
              f"covered {int(ref_mask.sum())} px, mean |RGB diff| {diff.mean():.4f}, max {diff.max():.0f} (8-bit levels)")
        assert ref_mask.sum() > 0.2 * size * size
        assert agreement >= MIN_MASK_AGREEMENT, job["name"]
        assert diff.mean() <= MAX_MEAN_RGB_DIFF, job["name"]
        # Both are exactly 0 where their mask is 0.
        assert not ts_rgb[ts_mask == 0].any() and not ref_rgb[ref_mask == 0].any()
