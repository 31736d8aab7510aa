import { describe, expect, it } from 'vitest';
import {
  ARCFACE_112,
  IDENTITY_AFFINE,
  affineScale,
  affineToMat3,
  alignmentFor,
  applyAffine,
  arcfaceTemplate,
  composeAffine,
  invertAffine,
  similarityTransform,
  type Affine,
  type Point,
} from '../src/align.ts';
import { mulberry32 } from './random.ts';

function similarity(scale: number, radians: number, tx: number, ty: number): Affine {
  const a = scale * Math.cos(radians);
  const c = scale * Math.sin(radians);
  return [a, -c, tx, c, a, ty];
}

function expectAffine(actual: Affine, expected: readonly number[], digits = 9): void {
  expect(actual).toHaveLength(6);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
}

function expectPoint(actual: Point, expected: Point, digits = 9): void {
  expect(actual[0]).toBeCloseTo(expected[0], digits);
  expect(actual[1]).toBeCloseTo(expected[1], digits);
}


const FRAME_FIVE: Point[] = [
  [281.3, 203.9],
  [362.8, 198.1],
  [325.0, 251.7],
  [294.6, 301.2],
  [352.1, 297.4],
];

describe('arcfaceTemplate', () => {
  it('is the ArcFace template at 112 and scales uniformly by cropSize / 112', () => {
    expect(arcfaceTemplate(112)).toEqual(ARCFACE_112);
    const t224 = arcfaceTemplate(224);
    t224.forEach((p, i) => expectPoint(p, [ARCFACE_112[i]![0] * 2, ARCFACE_112[i]![1] * 2], 12));
    expectPoint(arcfaceTemplate(128)[2]!, [56.0252 * (128 / 112), 71.7366 * (128 / 112)], 12);
  });

  it('returns a copy, leaving the shared template untouched', () => {
    const t = arcfaceTemplate(112);
    t[0]![0] = -1;
    expect(ARCFACE_112[0]![0]).toBe(38.2946);
  });

  it('rejects a non-positive crop size', () => {
    expect(() => arcfaceTemplate(0)).toThrow(/cropSize/);
    expect(() => arcfaceTemplate(Number.NaN)).toThrow(/cropSize/);
  });
});

describe('similarityTransform', () => {
  // Expected values from scikit-image 0.26.0 (numpy 2.4.6):
  //   t = skimage.transform.SimilarityTransform(); t.estimate(src, dst)
  //   t.params[0, :], t.params[1, :]  →  [a, b, tx, c, d, ty]
  // with src/dst as in each case below (dst = ARCFACE_112 * cropSize / 112).
  it('matches scikit-image for frame keypoints → 112 template', () => {
    expectAffine(similarityTransform(FRAME_FIVE, arcfaceTemplate(112)), [
      0.4277855526039087, -0.01195097124389466, -79.22377892173327, 0.011950971243894668, 0.42778555260390877,
      -39.104465372352024,
    ]);
  });

  it('matches scikit-image for frame keypoints → 224 template', () => {
    expectAffine(similarityTransform(FRAME_FIVE, arcfaceTemplate(224)), [
      0.8555711052078174, -0.02390194248778932, -158.44755784346654, 0.023901942487789336, 0.8555711052078175,
      -78.20893074470405,
    ]);
  });

  it('matches scikit-image for a strongly rolled face → 128 template', () => {
    const rolled: Point[] = [
      [512.0, 90.5],
      [540.2, 160.3],
      [480.7, 150.1],
      [430.9, 120.0],
      [455.5, 185.5],
    ];
    expectAffine(similarityTransform(rolled, arcfaceTemplate(128)), [
      0.17003542316961362, 0.48911232942287297, -87.3452326128556, -0.48911232942287297, 0.17003542316961337,
      294.81160712914834,
    ]);
  });

  it('never fits a reflection, even for mirrored keypoints (matches scikit-image)', () => {
    // Left/right swapped: the best reflection would fit well, a rotation cannot.
    const mirrored: Point[] = [FRAME_FIVE[1]!, FRAME_FIVE[0]!, FRAME_FIVE[2]!, FRAME_FIVE[4]!, FRAME_FIVE[3]!];
    const m = similarityTransform(mirrored, arcfaceTemplate(112));
    expectAffine(m, [
      0.11750860166293282, 0.00782520404902191, 16.0921796804886, -0.00782520404902191, 0.1175086016629328,
      44.998368567983775,
    ]);
    const [a, b, , c, d] = m;
    expect(a * d - b * c).toBeGreaterThan(0);
    expect(a).toBeCloseTo(d, 12);
    expect(b).toBeCloseTo(-c, 12);
  });

  it('recovers a known similarity exactly', () => {
    const known = similarity(2.3, 0.4, 100, -50);
    const dst = ARCFACE_112.map((p) => applyAffine(known, p));
    expectAffine(similarityTransform(ARCFACE_112, dst), known, 9);
  });

  it('recovers rotations in every quadrant', () => {
    for (const radians of [-3, -2, -0.5, 0, 1, 2.5, Math.PI]) {
      const known = similarity(0.7, radians, -12, 34);
      const dst = FRAME_FIVE.map((p) => applyAffine(known, p));
      expectAffine(similarityTransform(FRAME_FIVE, dst), known, 9);
    }
  });

  it('stays close to the truth with noisy points, with a small residual', () => {
    const rand = mulberry32(11);
    const known = similarity(3.1, -0.3, 250, 180);
    const dst = ARCFACE_112.map((p): Point => {
      const [x, y] = applyAffine(known, p);
      return [x + (rand() - 0.5) * 2, y + (rand() - 0.5) * 2]; // ±1 px
    });
    const fit = similarityTransform(ARCFACE_112, dst);
    expect(affineScale(fit)).toBeCloseTo(3.1, 1);
    expect(Math.atan2(fit[3], fit[0])).toBeCloseTo(-0.3, 2);
    const rms = Math.sqrt(
      ARCFACE_112.reduce((s, p, i) => {
        const [x, y] = applyAffine(fit, p);
        return s + (x - dst[i]![0]) ** 2 + (y - dst[i]![1]) ** 2;
      }, 0) / ARCFACE_112.length,
    );
    expect(rms).toBeLessThan(1);
    // The least-squares fit is at least as good as the true transform on the noisy data.
    const rmsTrue = Math.sqrt(
      ARCFACE_112.reduce((s, p, i) => {
        const [x, y] = applyAffine(known, p);
        return s + (x - dst[i]![0]) ** 2 + (y - dst[i]![1]) ** 2;
      }, 0) / ARCFACE_112.length,
    );
    expect(rms).toBeLessThanOrEqual(rmsTrue + 1e-12);
  });

  it('throws a clear error when all source points coincide', () => {
    const same: Point[] = Array.from({ length: 5 }, () => [320, 240]);
    expect(() => similarityTransform(same, ARCFACE_112)).toThrow(/src points all coincide/);
    expect(() => similarityTransform(ARCFACE_112, same)).toThrow(/dst points all coincide/);
    expect(() => alignmentFor(same, 224)).toThrow(/coincide/);
  });

  it('rejects mismatched, too few or non-finite points', () => {
    expect(() => similarityTransform(FRAME_FIVE, ARCFACE_112.slice(0, 4))).toThrow(/as many src as dst/);
    expect(() => similarityTransform([[1, 2]], [[3, 4]])).toThrow(/at least 2/);
    const bad: Point[] = FRAME_FIVE.map((p) => [...p] as Point);
    bad[3] = [Number.NaN, 1];
    expect(() => similarityTransform(bad, ARCFACE_112)).toThrow(/non-finite/);
  });
});

describe('affine helpers', () => {
  const m = similarity(1.7, 0.9, 33, -21);

  it('applies x\' = a x + b y + tx, y\' = c x + d y + ty', () => {
    expect(applyAffine([1, 2, 3, 4, 5, 6], [10, 100])).toEqual([213, 546]);
  });

  it('composes so that the inner transform is applied first', () => {
    const scale: Affine = [2, 0, 0, 0, 2, 0];
    const shift: Affine = [1, 0, 10, 0, 1, 0];
    expect(applyAffine(composeAffine(shift, scale), [1, 1])).toEqual([12, 2]);
    expect(applyAffine(composeAffine(scale, shift), [1, 1])).toEqual([22, 2]);
    const general: Affine = [0.3, -1.2, 5, 0.7, 2.1, -4];
    const p: Point = [3.5, -8.25];
    expectPoint(applyAffine(composeAffine(general, m), p), applyAffine(general, applyAffine(m, p)), 10);
  });

  it('inverts: round trips points and composes to the identity', () => {
    const inv = invertAffine(m);
    for (const p of FRAME_FIVE) expectPoint(applyAffine(inv, applyAffine(m, p)), p, 9);
    expectAffine(composeAffine(m, inv), IDENTITY_AFFINE, 12);
    expectAffine(composeAffine(inv, m), IDENTITY_AFFINE, 12);
    const general: Affine = [0.3, -1.2, 5, 0.7, 2.1, -4];
    expectAffine(composeAffine(invertAffine(general), general), IDENTITY_AFFINE, 12);
  });

  it('refuses to invert a singular transform', () => {
    expect(() => invertAffine([0, 0, 1, 0, 0, 2])).toThrow(/not invertible/);
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(/not invertible/);
  });

  it('reports the scale of a similarity', () => {
    expect(affineScale(m)).toBeCloseTo(1.7, 12);
  });

  it('lays out a column-major 3×3 matrix for WebGL', () => {
    expect(Array.from(affineToMat3([1, 2, 3, 4, 5, 6]))).toEqual([1, 4, 0, 2, 5, 0, 3, 6, 1]);
    const out = new Float32Array(9);
    expect(affineToMat3(m, out)).toBe(out);
  });
});

describe('alignmentFor', () => {
  it('maps keypoints onto the template and back', () => {
    // Keypoints that are an exact similarity image of the 224 template.
    const cropToFrame = similarity(1.4, 0.2, 180, 90);
    const five = arcfaceTemplate(224).map((p) => applyAffine(cropToFrame, p));
    const { toCrop, toFrame } = alignmentFor(five, 224);
    five.forEach((p, i) => expectPoint(applyAffine(toCrop, p), arcfaceTemplate(224)[i]!, 9));
    expectAffine(toFrame, cropToFrame, 9);
    expectAffine(composeAffine(toFrame, toCrop), IDENTITY_AFFINE, 12);
  });

  it('agrees with similarityTransform on real keypoints', () => {
    const { toCrop, toFrame } = alignmentFor(FRAME_FIVE, 128);
    expectAffine(toCrop, similarityTransform(FRAME_FIVE, arcfaceTemplate(128)), 12);
    expectAffine(composeAffine(toCrop, toFrame), IDENTITY_AFFINE, 12);
  });

  it('needs exactly five keypoints', () => {
    expect(() => alignmentFor(FRAME_FIVE.slice(0, 4), 224)).toThrow(/exactly 5 keypoints, got 4/);
  });
});
