"""5-point landmarks for ArcFace alignment, from the project's FaceLandmarker bundle.

Run with the mediapipe venv (requirements-data.txt), not the torch venv:
    /tmp/mpenv/bin/python identity_encoder/landmarks_mediapipe.py OUT.json IMG [IMG ...]
Writes {path: [[x,y] x5] | null}: left eye, right eye (mean of iris landmarks 468-472 /
473-477), nose tip (1), mouth corners (61, 291); eyes and mouth corners ordered by image x.
"""
import json
import os
import sys

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

TASK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "face_landmarker", "face_landmarker.task")


def main(out_path, paths):
    opts = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=TASK),
                                        running_mode=vision.RunningMode.IMAGE, num_faces=1)
    lm = vision.FaceLandmarker.create_from_options(opts)
    out = {}
    for path in paths:
        bgr = cv2.imread(path)
        if bgr is None:
            out[path] = None
            continue
        img = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).copy())
        r = lm.detect(img)
        if not r.face_landmarks:
            out[path] = None
            continue
        p = np.array([[q.x * img.width, q.y * img.height] for q in r.face_landmarks[0]])
        eyes = sorted([p[468:473].mean(0), p[473:478].mean(0)], key=lambda v: v[0])
        mouth = sorted([p[61], p[291]], key=lambda v: v[0])
        out[path] = [[float(v[0]), float(v[1])] for v in (eyes[0], eyes[1], p[1], mouth[0], mouth[1])]
    lm.close()
    with open(out_path, "w") as f:
        json.dump(out, f)
    print(len(out), "images,", sum(v is None for v in out.values()), "without a face")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
