// Pure rules of the face compositor both engines paste through
// (client/src/engines/compositor): what the skin of a face looks like at each
// mesh vertex, so that its shading can be moved from the source to the target,
// and so that pixels that are not skin (hair and hands over the source photo,
// glasses frames and hands in front of the target) can be told apart per pixel.
// Everything works on the 478 landmarks' samples, a few hundred numbers a
// frame, never on whole images.
import { labStats, srgbToLab, type ColourStats } from './colour.ts';
import * as mesh from './mesh.ts';

const N = mesh.LANDMARK_COUNT;

const cache = new Map<string, unknown>();
function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** Each vertex's neighbours in the tessellation (the iris points have none). */
export const neighbours = () =>
  once('adj', () => {
    const sets = Array.from({ length: N }, () => new Set<number>());
    const t = mesh.triangles();
    for (let i = 0; i < t.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        sets[t[i + k]!]!.add(t[i + ((k + 1) % 3)]!);
        sets[t[i + k]!]!.add(t[i + ((k + 2) % 3)]!);
      }
    }
    return sets.map((s) => [...s]);
  });

/**
 * Where the "is this skin?" test applies: 0 on and next to the eyes, brows
 * and lips, whose colours are not skin but belong there, rising to 1 two
 * rings away.
 */
export const testWeights = () =>
  once('test', () => {
    const F = mesh.faceFeatures();
    return mesh.ringWeights([...F.eyes, ...F.brows, ...F.lips], 2);
  });

/**
 * RGB (0–255) of an RGBA image at each landmark, bilinear; `xy` holds the
 * landmarks' x, y in that image's pixels (stride 2). Points outside clamp to the edge.
 */
export function sampleAt(rgba: ArrayLike<number>, width: number, height: number, xy: ArrayLike<number>): Float32Array {
  const n = xy.length / 2;
  const out = new Float32Array(n * 3);
  for (let v = 0; v < n; v++) {
    const x = Math.min(width - 1, Math.max(0, xy[2 * v]! - 0.5)), y = Math.min(height - 1, Math.max(0, xy[2 * v + 1]! - 0.5));
    const x0 = Math.floor(x), y0 = Math.floor(y), x1 = Math.min(width - 1, x0 + 1), y1 = Math.min(height - 1, y0 + 1);
    const fx = x - x0, fy = y - y0;
    for (let c = 0; c < 3; c++) {
      const p = (xx: number, yy: number) => rgba[(yy * width + xx) * 4 + c]!;
      out[v * 3 + c] = (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
    }
  }
  return out;
}

/**
 * Normalised convolution over the mesh: each pass replaces a vertex's value
 * by the weighted mean of itself and its neighbours, weights travelling with
 * the values, so vertices of weight 0 take their neighbours' values and
 * never give theirs. `channels` values per vertex.
 */
export function smoothOnMesh(values: Float32Array, channels: number, weights: ArrayLike<number>, passes: number): Float32Array {
  const adj = neighbours();
  let num = Float32Array.from({ length: N * channels }, (_, i) => values[i]! * weights[Math.floor(i / channels)]!);
  let den = Float32Array.from({ length: N }, (_, v) => weights[v]!);
  for (let p = 0; p < passes; p++) {
    const n2 = Float32Array.from(num), d2 = Float32Array.from(den);
    for (let v = 0; v < N; v++) {
      for (const u of adj[v]!) {
        d2[v] = d2[v]! + den[u]!;
        for (let c = 0; c < channels; c++) n2[v * channels + c] = n2[v * channels + c]! + num[u * channels + c]!;
      }
    }
    [num, den] = [n2, d2];
  }
  return Float32Array.from({ length: N * channels }, (_, i) => {
    const d = den[Math.floor(i / channels)]!;
    return d > 1e-6 ? num[i]! / d : values[i]!;
  });
}

/** Lab distance that weighs lightness down: shading changes L, hair and frames change everything. */
export function skinDistance(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const [L1, a1, b1] = srgbToLab(a[ai]!, a[ai + 1]!, a[ai + 2]!);
  const [L2, a2, b2] = srgbToLab(b[bi]!, b[bi + 1]!, b[bi + 2]!);
  return Math.hypot(SKIN_L_WEIGHT * (L1 - L2), a1 - a2, b1 - b2);
}

/** The weight of lightness in skinDistance (the compositor's shader uses the same). */
export const SKIN_L_WEIGHT = 0.6;
/** skinDistance below which a pixel is skin for sure, and above which it is not skin at all. */
export const SKIN_DISTANCE = [14, 28] as const;

export interface FaceSkin {
  /** The samples it was made from (RGB 0–255 per vertex). */
  samples: Float32Array;
  /** The skin colour expected at each vertex (RGB 0–255): smooth over the face, from skin samples only. */
  expected: Float32Array;
  /** Per vertex, how much its own sample counted as skin (0–1). */
  skinness: Float32Array;
  /** Lab statistics of the samples that are skin, for the colour transfer. */
  stats: ColourStats;
}

/**
 * Smoothing passes: about a cheek's width on the mesh, so shading survives
 * and features don't. The colour a live frame's pixels are tested against is
 * smoothed less (TARGET_PASSES): its light is often hard (a lamp beside the
 * face), and the side of a nose in shadow is skin, not an occluder.
 */
export const SMOOTH_PASSES = 6;
export const TARGET_PASSES = 2;

/**
 * The skin of a face from its samples at the landmarks: a smooth expected
 * colour, refined twice by dropping samples far from it (hair over a
 * forehead, a hand, a frame), and the stats of what is left.
 */
export function faceSkin(samples: Float32Array, localPasses = SMOOTH_PASSES): FaceSkin {
  const base = mesh.skinWeights();
  const weights = Float32Array.from(base);
  let expected = smoothOnMesh(samples, 3, weights, SMOOTH_PASSES);
  const skinness = new Float32Array(N).fill(1);
  for (let round = 0; round < 2; round++) {
    for (let v = 0; v < N; v++) {
      const d = skinDistance(samples, v * 3, expected, v * 3);
      skinness[v] = 1 - smoothstep(SKIN_DISTANCE[0], SKIN_DISTANCE[1], d);
      weights[v] = base[v]! * skinness[v]!;
    }
    expected = smoothOnMesh(samples, 3, weights, SMOOTH_PASSES);
  }
  if (localPasses !== SMOOTH_PASSES) expected = smoothOnMesh(samples, 3, weights, localPasses);
  const rgba = new Uint8Array(N * 4);
  const mask = new Uint8Array(N);
  for (let v = 0; v < N; v++) {
    rgba.set([samples[v * 3]!, samples[v * 3 + 1]!, samples[v * 3 + 2]!, 255], v * 4);
    mask[v] = weights[v]! >= 0.5 ? 255 : 0;
  }
  return { samples, expected, skinness, stats: labStats(rgba, mask) };
}

/** The shading kernel's width, as a share of the face's width: the light's shape, not the nose's. */
const SHADING_SIGMA = 0.18;

/**
 * Gaussian weights between the landmarks of a face layout (x, y pixels,
 * stride 2), σ a share of the face's width, in image space: the mesh is
 * dense on the eyes, nose and lips, so smoothing along its edges would keep
 * a nose's shadow or a glasses rim as "light". Row-major N × N.
 */
export function shadingKernel(xy: ArrayLike<number>): Float32Array {
  let x0 = Infinity, x1 = -Infinity;
  for (let v = 0; v < 468; v++) { x0 = Math.min(x0, xy[2 * v]!); x1 = Math.max(x1, xy[2 * v]!); }
  const s2 = 2 * (SHADING_SIGMA * Math.max(x1 - x0, 1)) ** 2;
  const k = new Float32Array(N * N);
  for (let v = 0; v < N; v++) {
    for (let u = 0; u < N; u++) k[v * N + u] = Math.exp(-((xy[2 * v]! - xy[2 * u]!) ** 2 + (xy[2 * v + 1]! - xy[2 * u + 1]!) ** 2) / s2);
  }
  return k;
}

/**
 * Shading transfer as a per-vertex lightness gain: the target's skin
 * lightness, low-passed with `kernel`, over its mean, divided by the
 * source's likewise. Only vertices that are skin on both faces count, so
 * makeup, stubble, a rim or a hand on either side doesn't read as light. The
 * colour transfer matches the means; this moves the light's shape (a lit
 * side, a shadowed jaw) from the source's photo to the target's frame.
 */
export function shadingGains(source: FaceSkin, target: FaceSkin, kernel: Float32Array, limits: readonly [number, number] = [0.75, 1.35]): Float32Array {
  const base = mesh.skinWeights();
  const weights = Float32Array.from({ length: N }, (_, v) => base[v]! * source.skinness[v]! * target.skinness[v]!);
  const lightness = (skin: FaceSkin) => {
    const L = Float32Array.from({ length: N }, (_, v) => srgbToLab(skin.samples[v * 3]!, skin.samples[v * 3 + 1]!, skin.samples[v * 3 + 2]!)[0]);
    let sum = 0, w = 0;
    for (let v = 0; v < N; v++) { sum += weights[v]! * L[v]!; w += weights[v]!; }
    const m = Math.max(w > 1e-6 ? sum / w : 50, 1);
    return Float32Array.from({ length: N }, (_, v) => {
      let num = 0, den = 0;
      for (let u = 0; u < N; u++) { const k = kernel[v * N + u]! * weights[u]!; num += k * L[u]!; den += k; }
      return (den > 1e-6 ? num / den : m) / m;
    });
  };
  const [ls, lt] = [lightness(source), lightness(target)];
  return Float32Array.from({ length: N }, (_, v) => Math.min(limits[1], Math.max(limits[0], lt[v]! / Math.max(ls[v]!, 0.05))));
}

function smoothstep(a: number, b: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}
