// Five-point face alignment: the similarity transform that maps detected
// keypoints onto the ArcFace template, as insightface, SimSwap and
// MobileFaceSwap do before feeding a crop to their networks.
//
// Coordinates follow OpenCV's warpAffine convention (pixel i has its centre at
// i), which is how the template was defined; a shader sampling texel centres
// at i + 0.5 must shift by half a pixel on each side of the transform.

import type { Point } from './keypoints.ts';

export type { Point } from './keypoints.ts';

/**
 * ArcFace's five keypoints in a 112×112 crop: eye on the image's left, eye on
 * the image's right, nose tip, mouth corner left, mouth corner right.
 * Shared constant: never mutate it, use arcfaceTemplate() for a copy.
 */
export const ARCFACE_112: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * The template for a square crop of cropSize pixels, scaled uniformly by
 * cropSize / 112 with no extra margin or shift. This is SimSwap's and
 * MobileFaceSwap's convention for their 224 crops (arcface_src * 224 / 112),
 * and the one used here for 128 crops as well.
 */
export function arcfaceTemplate(cropSize: number): Point[] {
  if (!(cropSize > 0) || !Number.isFinite(cropSize)) {
    throw new RangeError(`cropSize must be a positive number, got ${cropSize}`);
  }
  const s = cropSize / 112;
  return ARCFACE_112.map(([x, y]) => [x * s, y * s]);
}

/** x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = [a: number, b: number, tx: number, c: number, d: number, ty: number];

export const IDENTITY_AFFINE: Readonly<Affine> = Object.freeze([1, 0, 0, 0, 1, 0] as Affine);

/**
 * Least-squares similarity (rotation, uniform scale, translation; never a
 * reflection) taking src onto dst: Umeyama (1991). In 2-D it reduces to the
 * complex-number fit w ≈ k·z with k = Σ conj(z)·w / Σ|z|² over centred points,
 * which gives the same result as scikit-image's SimilarityTransform.estimate.
 */
export function similarityTransform(src: Point[], dst: Point[]): Affine {
  if (src.length !== dst.length) {
    throw new RangeError(`similarityTransform needs as many src as dst points (${src.length} ≠ ${dst.length})`);
  }
  if (src.length < 2) {
    throw new RangeError(`similarityTransform needs at least 2 point pairs, got ${src.length}`);
  }
  const n = src.length;
  const [sx, sy] = centroid(src, 'src');
  const [dx, dy] = centroid(dst, 'dst');

  let srcSpread = 0;
  let dstSpread = 0;
  let dotSum = 0; // Re Σ conj(z)·w
  let crossSum = 0; // Im Σ conj(z)·w
  for (let i = 0; i < n; i++) {
    const zx = src[i]![0] - sx;
    const zy = src[i]![1] - sy;
    const wx = dst[i]![0] - dx;
    const wy = dst[i]![1] - dy;
    srcSpread += zx * zx + zy * zy;
    dstSpread += wx * wx + wy * wy;
    dotSum += zx * wx + zy * wy;
    crossSum += zx * wy - zy * wx;
  }
  assertSpread(srcSpread, n, sx, sy, 'src');
  assertSpread(dstSpread, n, dx, dy, 'dst');

  const a = dotSum / srcSpread; // scale·cos θ
  const c = crossSum / srcSpread; // scale·sin θ
  return [a, -c, dx - (a * sx - c * sy), c, a, dy - (c * sx + a * sy)];
}

export function applyAffine(m: Affine, p: Point): Point {
  const [a, b, tx, c, d, ty] = m;
  return [a * p[0] + b * p[1] + tx, c * p[0] + d * p[1] + ty];
}

/** The transform that applies `inner` first, then `outer`. */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a1, b1, tx1, c1, d1, ty1] = outer;
  const [a2, b2, tx2, c2, d2, ty2] = inner;
  return [
    a1 * a2 + b1 * c2,
    a1 * b2 + b1 * d2,
    a1 * tx2 + b1 * ty2 + tx1,
    c1 * a2 + d1 * c2,
    c1 * b2 + d1 * d2,
    c1 * tx2 + d1 * ty2 + ty1,
  ];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  const norm = Math.max(Math.abs(a), Math.abs(b), Math.abs(c), Math.abs(d));
  if (!Number.isFinite(det) || Math.abs(det) <= 1e-12 * norm * norm || norm === 0) {
    throw new RangeError(`affine transform is not invertible (determinant ${det})`);
  }
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** Uniform scale of a similarity (√|det| for a general affine). */
export function affineScale(m: Affine): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

/** Column-major 3×3 matrix, as WebGL's uniformMatrix3fv expects. */
export function affineToMat3(m: Affine, out: Float32Array = new Float32Array(9)): Float32Array {
  const [a, b, tx, c, d, ty] = m;
  out.set([a, c, 0, b, d, 0, tx, ty, 1]);
  return out;
}

/**
 * Frame → crop transform for five keypoints (ArcFace order, frame pixels), and
 * its inverse for pasting the swapped crop back into the frame.
 */
export function alignmentFor(five: Point[], cropSize: number): { toCrop: Affine; toFrame: Affine } {
  if (five.length !== 5) {
    throw new RangeError(`alignmentFor needs exactly 5 keypoints, got ${five.length}`);
  }
  const toCrop = similarityTransform(five, arcfaceTemplate(cropSize));
  return { toCrop, toFrame: invertAffine(toCrop) };
}

function centroid(points: Point[], which: string): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new RangeError(`similarityTransform: ${which} contains a non-finite point (${p[0]}, ${p[1]})`);
    }
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}

/** Rejects point sets that (nearly) coincide: no rotation or scale can be fitted. */
function assertSpread(spread: number, n: number, cx: number, cy: number, which: string): void {
  // Relative to the coordinates' magnitude so float rounding of large pixel
  // values isn't mistaken for spread.
  const magnitude = Math.max(1, cx * cx + cy * cy);
  if (spread <= 1e-12 * n * magnitude) {
    throw new RangeError(
      `similarityTransform: the ${which} points all coincide, so no rotation or scale can be estimated`,
    );
  }
}
