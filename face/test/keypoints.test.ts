import { describe, expect, it } from 'vitest';
import {
  LANDMARKS_WITH_IRIS,
  MESH_LANDMARKS,
  fivePoints,
  landmarksToPixels,
  type NormalizedLandmark,
  type Point,
} from '../src/keypoints.ts';

const W = 640;
const H = 480;

interface FacePixels {
  irisA: Point; // centre of landmarks 468–472
  irisB: Point; // centre of landmarks 473–477
  nose: Point; // 1
  mouthA: Point; // 61
  mouthB: Point; // 291
}

// An upright face, not mirrored: MediaPipe's 468 iris and 61 corner are on the image's left.
const upright: FacePixels = {
  irisA: [280, 200],
  irisB: [360, 202],
  nose: [320, 250],
  mouthA: [290, 300],
  mouthB: [350, 301],
};

/** A synthetic landmark array (normalized) with the given pixel positions. */
function syntheticLandmarks(face: FacePixels, count = LANDMARKS_WITH_IRIS, ringRadius = 6): NormalizedLandmark[] {
  const lm: NormalizedLandmark[] = Array.from({ length: count }, () => ({ x: 0.5, y: 0.5 }));
  const set = (i: number, [x, y]: Point): void => {
    lm[i] = { x: x / W, y: y / H };
  };
  const iris = (centreIndex: number, [cx, cy]: Point): void => {
    if (centreIndex + 4 >= count) return;
    set(centreIndex, [cx, cy]);
    // Ring points around the centre (right, top, left, bottom).
    set(centreIndex + 1, [cx + ringRadius, cy]);
    set(centreIndex + 2, [cx, cy - ringRadius]);
    set(centreIndex + 3, [cx - ringRadius, cy]);
    set(centreIndex + 4, [cx, cy + ringRadius]);
  };
  iris(468, face.irisA);
  iris(473, face.irisB);
  // Eye corners straddling the iris centres, for the 468-point fallback.
  set(33, [face.irisA[0] - 15, face.irisA[1]]);
  set(133, [face.irisA[0] + 15, face.irisA[1]]);
  set(362, [face.irisB[0] - 15, face.irisB[1]]);
  set(263, [face.irisB[0] + 15, face.irisB[1]]);
  set(1, face.nose);
  set(61, face.mouthA);
  set(291, face.mouthB);
  return lm;
}

function rotateFace(face: FacePixels, degrees: number, centre: Point = [320, 240]): FacePixels {
  const r = (degrees * Math.PI) / 180;
  const rot = ([x, y]: Point): Point => {
    const dx = x - centre[0];
    const dy = y - centre[1];
    return [centre[0] + dx * Math.cos(r) - dy * Math.sin(r), centre[1] + dx * Math.sin(r) + dy * Math.cos(r)];
  };
  return {
    irisA: rot(face.irisA),
    irisB: rot(face.irisB),
    nose: rot(face.nose),
    mouthA: rot(face.mouthA),
    mouthB: rot(face.mouthB),
  };
}

function expectPoints(actual: Point[], expected: Point[], digits = 3): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((p, i) => {
    expect(p[0]).toBeCloseTo(expected[i]![0], digits);
    expect(p[1]).toBeCloseTo(expected[i]![1], digits);
  });
}

describe('fivePoints', () => {
  it('returns ArcFace order in pixels for an upright face', () => {
    const five = fivePoints(syntheticLandmarks(upright), W, H);
    expectPoints(five, [upright.irisA, upright.irisB, upright.nose, upright.mouthA, upright.mouthB]);
  });

  it('uses the mean of the iris centre and ring', () => {
    // Shift one ring point: the eye centre moves by a fifth of the shift.
    const lm = syntheticLandmarks(upright);
    lm[469] = { x: lm[469]!.x + 10 / W, y: lm[469]!.y };
    const five = fivePoints(lm, W, H);
    expect(five[0]![0]).toBeCloseTo(upright.irisA[0] + 2, 3);
  });

  it('orders by image position, not by MediaPipe left/right naming (mirrored input)', () => {
    const mirrored: FacePixels = {
      irisA: upright.irisB,
      irisB: upright.irisA,
      nose: upright.nose,
      mouthA: upright.mouthB,
      mouthB: upright.mouthA,
    };
    const five = fivePoints(syntheticLandmarks(mirrored), W, H);
    expectPoints(five, [upright.irisA, upright.irisB, upright.nose, upright.mouthA, upright.mouthB]);
  });

  it('orders eyes and mouth corners independently', () => {
    const oddLabels: FacePixels = { ...upright, mouthA: upright.mouthB, mouthB: upright.mouthA };
    const five = fivePoints(syntheticLandmarks(oddLabels), W, H);
    expectPoints(five, [upright.irisA, upright.irisB, upright.nose, upright.mouthA, upright.mouthB]);
  });

  it('matches plain x ordering for a moderately rolled face', () => {
    const face = rotateFace(upright, 35);
    const five = fivePoints(syntheticLandmarks(face), W, H);
    expect(five[0]![0]).toBeLessThan(five[1]![0]);
    expect(five[3]![0]).toBeLessThan(five[4]![0]);
    expectPoints(five, [face.irisA, face.irisB, face.nose, face.mouthA, face.mouthB]);
  });

  it('keeps the anatomical order for a face rolled past 90° (no mirrored alignment)', () => {
    for (const degrees of [100, 180, -135]) {
      const face = rotateFace(upright, degrees);
      const five = fivePoints(syntheticLandmarks(face), W, H);
      // Rotating the face must not change which eye is "left" in ArcFace terms.
      expectPoints(five, [face.irisA, face.irisB, face.nose, face.mouthA, face.mouthB]);
    }
  });

  it('falls back to eye-corner midpoints without iris landmarks', () => {
    const lm = syntheticLandmarks(upright, MESH_LANDMARKS);
    expect(lm).toHaveLength(468);
    const five = fivePoints(lm, W, H);
    expectPoints(five, [upright.irisA, upright.irisB, upright.nose, upright.mouthA, upright.mouthB]);
  });

  it('scales normalized coordinates by the image size', () => {
    const five = fivePoints(syntheticLandmarks(upright), W * 2, H * 3);
    expect(five[2]).toEqual([upright.nose[0] * 2, upright.nose[1] * 3].map((v) => expect.closeTo(v, 3)));
  });

  it('rejects a landmark list that is too short', () => {
    expect(() => fivePoints([], W, H)).toThrow(/at least 468 face landmarks, got 0/);
  });
});

describe('landmarksToPixels', () => {
  it('interleaves pixel x, y', () => {
    const out = landmarksToPixels(
      [
        { x: 0, y: 0 },
        { x: 0.5, y: 0.25 },
        { x: 1, y: 1 },
      ],
      W,
      H,
    );
    expect(Array.from(out)).toEqual([0, 0, 320, 120, 640, 480]);
  });

  it('reuses an output array of the right length and ignores one of the wrong length', () => {
    const lm = syntheticLandmarks(upright);
    const buffer = new Float32Array(LANDMARKS_WITH_IRIS * 2);
    expect(landmarksToPixels(lm, W, H, buffer)).toBe(buffer);
    expect(buffer[2 * 1]).toBeCloseTo(upright.nose[0], 3);
    expect(buffer[2 * 1 + 1]).toBeCloseTo(upright.nose[1], 3);
    const wrong = new Float32Array(4);
    const fresh = landmarksToPixels(lm, W, H, wrong);
    expect(fresh).not.toBe(wrong);
    expect(fresh).toHaveLength(LANDMARKS_WITH_IRIS * 2);
  });
});
