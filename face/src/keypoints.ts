// MediaPipe FaceLandmarker (478 landmarks, normalized to the image) → the five
// keypoints ArcFace-style alignment expects, in pixels.

export type Point = [number, number];

export interface NormalizedLandmark {
  x: number;
  y: number;
}

/** 468 face-mesh points, then 10 iris points (two rings of centre + 4). */
export const MESH_LANDMARKS = 468;
export const LANDMARKS_WITH_IRIS = 478;

/** MediaPipe indices used for the five keypoints. */
export const LANDMARK_INDEX = Object.freeze({
  // Iris centre + 4-point ring of the eye around corners 33/133 (image left for
  // an upright, unmirrored face; sources disagree on calling it "left" or
  // "right", which is why fivePoints orders by geometry instead).
  irisA: [468, 469, 470, 471, 472] as const,
  /** Iris centre + ring of the eye around corners 362/263. */
  irisB: [473, 474, 475, 476, 477] as const,
  /** Eye corners, the fallback for meshes without iris points. */
  eyeCornersA: [33, 133] as const,
  eyeCornersB: [362, 263] as const,
  noseTip: 1,
  mouthCornerA: 61,
  mouthCornerB: 291,
});

/** Interleaved pixel coordinates x0, y0, x1, y1, … (reuses `out` when it fits). */
export function landmarksToPixels(
  landmarks: ArrayLike<NormalizedLandmark>,
  width: number,
  height: number,
  out?: Float32Array,
): Float32Array {
  const length = landmarks.length * 2;
  const result = out && out.length === length ? out : new Float32Array(length);
  for (let i = 0; i < landmarks.length; i++) {
    const p = landmarks[i]!;
    result[2 * i] = p.x * width;
    result[2 * i + 1] = p.y * height;
  }
  return result;
}

/**
 * ArcFace order: [eye on image left, eye on image right, nose tip,
 * mouth corner on image left, mouth corner on image right], in pixels.
 *
 * "Image left" is judged in the face's own upright frame (perpendicular to the
 * eyes → mouth direction), which equals comparing x for an upright face but
 * stays right when the head is rolled past 90°, where a plain x comparison
 * would hand the aligner a mirrored face. It never relies on MediaPipe's
 * left/right naming, so mirrored (selfie) input works too.
 */
export function fivePoints(
  landmarks: ArrayLike<NormalizedLandmark>,
  width: number,
  height: number,
): Point[] {
  if (landmarks.length < MESH_LANDMARKS) {
    throw new RangeError(`expected at least ${MESH_LANDMARKS} face landmarks, got ${landmarks.length}`);
  }
  const px = (i: number): Point => {
    const p = landmarks[i]!;
    return [p.x * width, p.y * height];
  };
  const mean = (indices: readonly number[]): Point => {
    let x = 0;
    let y = 0;
    for (const i of indices) {
      const [px_, py_] = px(i);
      x += px_;
      y += py_;
    }
    return [x / indices.length, y / indices.length];
  };

  const hasIris = landmarks.length >= LANDMARKS_WITH_IRIS;
  const eyeA = mean(hasIris ? LANDMARK_INDEX.irisA : LANDMARK_INDEX.eyeCornersA);
  const eyeB = mean(hasIris ? LANDMARK_INDEX.irisB : LANDMARK_INDEX.eyeCornersB);
  const nose = px(LANDMARK_INDEX.noseTip);
  const mouthA = px(LANDMARK_INDEX.mouthCornerA);
  const mouthB = px(LANDMARK_INDEX.mouthCornerB);

  // Face "down" direction: from between the eyes to between the mouth corners.
  const down: Point = [
    (mouthA[0] + mouthB[0] - eyeA[0] - eyeB[0]) / 2,
    (mouthA[1] + mouthB[1] - eyeA[1] - eyeB[1]) / 2,
  ];
  const [eyeLeft, eyeRight] = orderLeftRight(eyeA, eyeB, down);
  const [mouthLeft, mouthRight] = orderLeftRight(mouthA, mouthB, down);
  return [eyeLeft, eyeRight, nose, mouthLeft, mouthRight];
}

/**
 * Orders two points so the second lies to the right of the first when the face
 * is turned upright. With y pointing down, "right" is where cross(right − left,
 * down) > 0 (for an upright face: larger x).
 */
function orderLeftRight(p: Point, q: Point, down: Point): [Point, Point] {
  const cross = (q[0] - p[0]) * down[1] - (q[1] - p[1]) * down[0];
  // Degenerate geometry (no usable "down"): fall back to plain x.
  if (cross === 0 || !Number.isFinite(cross)) return p[0] <= q[0] ? [p, q] : [q, p];
  return cross > 0 ? [p, q] : [q, p];
}
