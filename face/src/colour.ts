// Colour matching in CIE L*a*b* (D65, sRGB primaries with the real sRGB
// transfer curve): Reinhard et al. 2001 mean/std transfer, so a swapped face
// picks up the lighting and white balance of the frame it is pasted into.
// Lab rather than RGB because its axes are roughly perceptually independent,
// so matching them one at a time doesn't tint the result.

type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

// Linear sRGB → XYZ (IEC 61966-2-1, D65), row-major.
const RGB_TO_XYZ: Mat3 = [
  0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041,
];

// The reference white is the image of RGB (1, 1, 1), so sRGB white lands on
// exactly a = b = 0 instead of being off by the rounding of published constants.
const WHITE_X = RGB_TO_XYZ[0] + RGB_TO_XYZ[1] + RGB_TO_XYZ[2];
const WHITE_Y = RGB_TO_XYZ[3] + RGB_TO_XYZ[4] + RGB_TO_XYZ[5];
const WHITE_Z = RGB_TO_XYZ[6] + RGB_TO_XYZ[7] + RGB_TO_XYZ[8];

// Exact inverse of RGB_TO_XYZ, so that Lab → sRGB undoes sRGB → Lab.
const XYZ_TO_RGB = invert3x3(RGB_TO_XYZ);

// CIE constants in their exact rational form.
const EPSILON = 216 / 24389;
const KAPPA = 24389 / 27;

/** sRGB 0–255 → linear 0–1 for every byte value (inputs of the bulk functions are bytes). */
const BYTE_TO_LINEAR = Float64Array.from({ length: 256 }, (_, i) => srgbToLinear(i / 255));

export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

/** sRGB channels 0–255 → [L*, a*, b*]. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  return linearToLab(srgbToLinear(r / 255), srgbToLinear(g / 255), srgbToLinear(b / 255));
}

/** [L*, a*, b*] → sRGB channels, clamped to 0–255 (not rounded). */
export function labToSrgb(L: number, a: number, b: number): [number, number, number] {
  const [lr, lg, lb] = labToLinear(L, a, b);
  return [toByteRange(lr), toByteRange(lg), toByteRange(lb)];
}

export interface ColourStats {
  mean: [number, number, number];
  std: [number, number, number];
  count: number;
}

/**
 * Per-channel Lab mean and (population) standard deviation of RGBA pixels.
 * With a mask (one byte per pixel), pixels whose mask value is > 127 count;
 * without one, pixels with alpha ≥ 128 count. No pixels → zeros, count 0.
 */
export function labStats(rgba: Uint8ClampedArray | Uint8Array, mask?: Uint8Array | Uint8ClampedArray): ColourStats {
  const pixels = pixelCount(rgba, mask);
  let sumL = 0;
  let sumA = 0;
  let sumB = 0;
  let sqL = 0;
  let sqA = 0;
  let sqB = 0;
  let count = 0;
  for (let p = 0; p < pixels; p++) {
    if (!isInside(rgba, mask, p)) continue;
    const i = p * 4;
    const [L, a, b] = linearToLab(BYTE_TO_LINEAR[rgba[i]!]!, BYTE_TO_LINEAR[rgba[i + 1]!]!, BYTE_TO_LINEAR[rgba[i + 2]!]!);
    sumL += L;
    sumA += a;
    sumB += b;
    sqL += L * L;
    sqA += a * a;
    sqB += b * b;
    count++;
  }
  if (count === 0) return { mean: [0, 0, 0], std: [0, 0, 0], count: 0 };
  const mean: [number, number, number] = [sumL / count, sumA / count, sumB / count];
  // Clamped at 0: float rounding can make a flat channel's variance slightly negative.
  const std = (sq: number, m: number): number => Math.sqrt(Math.max(0, sq / count - m * m));
  return { mean, std: [std(sqL, mean[0]), std(sqA, mean[1]), std(sqB, mean[2])], count };
}

/** target_lab = source_lab · scale + offset, per channel. */
export interface ColourTransfer {
  scale: [number, number, number];
  offset: [number, number, number];
}

export const IDENTITY_TRANSFER: Readonly<ColourTransfer> = Object.freeze({
  scale: [1, 1, 1] as [number, number, number],
  offset: [0, 0, 0] as [number, number, number],
});

/** Below this a channel is flat: its std carries no contrast information. */
const FLAT_STD = 1e-4;

/**
 * Reinhard mean/std transfer that makes `source` look like `target`. Scales
 * are clamped to [1/maxScale, maxScale] so a tiny or noisy region can't blow
 * up contrast; a flat channel on either side keeps scale 1 (shift only).
 * Empty stats on either side give the identity.
 */
export function colourTransfer(source: ColourStats, target: ColourStats, maxScale = 2): ColourTransfer {
  if (!(maxScale >= 1)) throw new RangeError(`maxScale must be ≥ 1, got ${maxScale}`);
  if (source.count === 0 || target.count === 0) {
    return { scale: [1, 1, 1], offset: [0, 0, 0] };
  }
  const scale = [0, 1, 2].map((k) => {
    const s = source.std[k]!;
    const t = target.std[k]!;
    if (s < FLAT_STD || t < FLAT_STD) return 1;
    return Math.min(maxScale, Math.max(1 / maxScale, t / s));
  }) as [number, number, number];
  const offset = [0, 1, 2].map((k) => target.mean[k]! - source.mean[k]! * scale[k]!) as [number, number, number];
  return { scale, offset };
}

/**
 * CPU reference of the transfer, in place; alpha is kept. With a mask only
 * pixels whose mask value is > 127 change.
 */
export function applyTransfer(
  rgba: Uint8ClampedArray,
  t: ColourTransfer,
  mask?: Uint8Array | Uint8ClampedArray,
): void {
  const pixels = pixelCount(rgba, mask);
  const [s0, s1, s2] = t.scale;
  const [o0, o1, o2] = t.offset;
  for (let p = 0; p < pixels; p++) {
    if (mask && mask[p]! <= 127) continue;
    const i = p * 4;
    const [L, a, b] = linearToLab(BYTE_TO_LINEAR[rgba[i]!]!, BYTE_TO_LINEAR[rgba[i + 1]!]!, BYTE_TO_LINEAR[rgba[i + 2]!]!);
    const [lr, lg, lb] = labToLinear(L * s0 + o0, a * s1 + o1, b * s2 + o2);
    // Uint8ClampedArray rounds and clamps on assignment.
    rgba[i] = toByteRange(lr);
    rgba[i + 1] = toByteRange(lg);
    rgba[i + 2] = toByteRange(lb);
  }
}

function linearToLab(r: number, g: number, b: number): [number, number, number] {
  const m = RGB_TO_XYZ;
  const fx = labF((m[0] * r + m[1] * g + m[2] * b) / WHITE_X);
  const fy = labF((m[3] * r + m[4] * g + m[5] * b) / WHITE_Y);
  const fz = labF((m[6] * r + m[7] * g + m[8] * b) / WHITE_Z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

function labToLinear(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const x = labFInverse(fx) * WHITE_X;
  const y = (L > KAPPA * EPSILON ? fy ** 3 : L / KAPPA) * WHITE_Y;
  const z = labFInverse(fz) * WHITE_Z;
  const m = XYZ_TO_RGB;
  return [m[0] * x + m[1] * y + m[2] * z, m[3] * x + m[4] * y + m[5] * z, m[6] * x + m[7] * y + m[8] * z];
}

function labF(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function labFInverse(f: number): number {
  const cube = f * f * f;
  return cube > EPSILON ? cube : (116 * f - 16) / KAPPA;
}

/** Linear channel (any value; out of gamut is clamped) → sRGB 0–255. */
function toByteRange(linear: number): number {
  if (!(linear > 0)) return 0; // also maps NaN to black
  if (linear >= 1) return 255;
  return Math.min(255, linearToSrgb(linear) * 255);
}

function pixelCount(rgba: ArrayLike<number>, mask: ArrayLike<number> | undefined): number {
  if (rgba.length % 4 !== 0) {
    throw new RangeError(`RGBA data length must be a multiple of 4, got ${rgba.length}`);
  }
  const pixels = rgba.length / 4;
  if (mask && mask.length !== pixels) {
    throw new RangeError(`mask has ${mask.length} entries but the image has ${pixels} pixels`);
  }
  return pixels;
}

function isInside(rgba: ArrayLike<number>, mask: ArrayLike<number> | undefined, pixel: number): boolean {
  return mask ? mask[pixel]! > 127 : rgba[pixel * 4 + 3]! >= 128;
}

function invert3x3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}
