// Pure logic of the quality eval (`pnpm eval:quality`): landmark error and
// jitter, the held-out identities and the source × target pairs, summaries and
// the printed table. No browser, no files: unit-tested in metrics.test.ts.
import { hash32, SPLIT_DEFAULTS } from '../data/split.ts';

/** Landmarks as flat pixel coordinates [x0, y0, x1, y1, …] (478 points: mesh + iris). */
export type Landmarks = ArrayLike<number>;

/** Outer eye corners in MediaPipe's face mesh: the inter-ocular distance's ends. */
export const EYE_OUTER = [33, 263] as const;

export function interOcular(l: Landmarks): number {
  const [a, b] = EYE_OUTER;
  return Math.hypot(l[2 * a]! - l[2 * b]!, l[2 * a + 1]! - l[2 * b + 1]!);
}

/** Mean point-to-point distance between two landmark sets over the reference's inter-ocular distance. */
export function nme(pred: Landmarks, ref: Landmarks): number {
  if (pred.length !== ref.length || pred.length % 2) throw new Error(`landmark sets differ in length: ${pred.length} vs ${ref.length}`);
  const n = ref.length / 2;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.hypot(pred[2 * i]! - ref[2 * i]!, pred[2 * i + 1]! - ref[2 * i + 1]!);
  return s / n / interOcular(ref);
}

/**
 * Landmark jitter of a video against the original's: for each frame t whose
 * neighbours t-1 and t+1 have a face in both videos, the mean over points of
 * |l[t+1] - 2 l[t] + l[t-1]| (a second difference, so steady head motion does
 * not count) over the original frame t's inter-ocular distance, averaged over
 * those frames. `null` is a frame with no face found. Both videos use the same
 * frames and the same denominators, so `ratio` compares like with like.
 */
export function jitterRatio(original: (Landmarks | null)[], swapped: (Landmarks | null)[]): { original: number; swapped: number; ratio: number; frames: number } {
  if (original.length !== swapped.length) throw new Error(`videos differ in length: ${original.length} vs ${swapped.length}`);
  let so = 0, ss = 0, frames = 0;
  for (let t = 1; t + 1 < original.length; t++) {
    const o = [original[t - 1], original[t], original[t + 1]];
    const s = [swapped[t - 1], swapped[t], swapped[t + 1]];
    if (o.some((l) => !l) || s.some((l) => !l)) continue;
    const iod = interOcular(o[1]!);
    so += secondDifference(o as Landmarks[]) / iod;
    ss += secondDifference(s as Landmarks[]) / iod;
    frames++;
  }
  if (!frames) return { original: NaN, swapped: NaN, ratio: NaN, frames };
  return { original: so / frames, swapped: ss / frames, ratio: ss / so, frames };
}

/** Mean over points of |c - 2b + a| for three frames' landmarks [a, b, c]. */
export function secondDifference([a, b, c]: Landmarks[]): number {
  const n = b!.length / 2;
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += Math.hypot(c![2 * i]! - 2 * b![2 * i]! + a![2 * i]!, c![2 * i + 1]! - 2 * b![2 * i + 1]! + a![2 * i + 1]!);
  }
  return s / n;
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The seed models/data/prepare.ts splits with (its SEED). */
export const FACES_SEED = 'guise-faces-v1';

/**
 * Identities certainly in the TEST split, computed from the identity names
 * alone, without the prepared cache. prepare.ts splits only the identities
 * that kept a usable photo, which only its face detection knows; but the test
 * split is the first max(minTest, 10 %) of them in hash order, so any identity
 * among the first `minTest` of ALL labelled identities in that order is in the
 * test split if it kept a photo at all (dropping identities only moves it up).
 * An identity that kept no photo has none that passes the photo rules here either.
 */
export function certainTestIdentities(allIdentities: Iterable<string>, seed = FACES_SEED, minTest: number = SPLIT_DEFAULTS.minTest): string[] {
  return [...new Set(allIdentities)]
    .map((id) => ({ id, key: hash32(`${seed}\u0000${id}`) }))
    .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, minTest)
    .map(({ id }) => id);
}

export interface EvalIdentity { identity: string; photos: string[] }
export interface Pair { source: string; sourcePhoto: string; target: string; targetPhoto: string }

/**
 * Source × target pairs of different identities: the first `sources`
 * identities each as a source, with `targetsPerSource` targets spread evenly
 * over the others. A target uses its identity's second usable photo where it
 * has one, so the photo a swap lands on is not the one that identity is a
 * source with.
 */
export function selectPairs(identities: EvalIdentity[], sources: number, targetsPerSource: number): Pair[] {
  const usable = identities.filter((i) => i.photos.length > 0);
  const n = usable.length;
  if (n < 2) throw new Error(`need at least 2 identities with a usable photo, have ${n}`);
  const perSource = Math.min(targetsPerSource, n - 1);
  const step = Math.max(1, Math.floor((n - 1) / perSource));
  const pairs: Pair[] = [];
  for (let i = 0; i < Math.min(sources, n); i++) {
    const s = usable[i]!;
    for (let k = 1; k <= perSource; k++) {
      const t = usable[(i + k * step) % n]!;
      if (t.identity === s.identity) continue; // only when step wraps onto i (not for step·k < n)
      pairs.push({ source: s.identity, sourcePhoto: s.photos[0]!, target: t.identity, targetPhoto: t.photos[1] ?? t.photos[0]! });
    }
  }
  return pairs;
}

export interface EngineSummary {
  engine: string;
  status: 'ok' | 'skipped';
  note?: string;
  pairs: number;
  cosSource: { mean: number; median: number };
  cosTarget: { mean: number; median: number };
  nme: { mean: number; median: number };
  noFace: number;
  jitter?: { ratio: number; original: number; swapped: number; frames: number; noFace: number };
  /** Realism (models/eval/realism.ts): means over pairs, flicker over the video, occluders over the occluded targets. */
  realism?: { seam: number; lighting: number; flicker?: number; occluderKept?: number; occludedPairs?: number };
}

export interface PairResult {
  cosSource: number;
  cosTarget: number;
  nme: number | null;
  realism?: { seam: number; lighting: number };
}

/** One engine's row from its per-pair results (nme null: no face found in the output). */
export function summarise(engine: string, results: PairResult[]): EngineSummary {
  const nmes = results.map((r) => r.nme).filter((x): x is number => x !== null);
  const stat = (xs: number[]) => ({ mean: mean(xs), median: median(xs) });
  return {
    engine,
    status: 'ok',
    pairs: results.length,
    cosSource: stat(results.map((r) => r.cosSource)),
    cosTarget: stat(results.map((r) => r.cosTarget)),
    nme: stat(nmes),
    noFace: results.length - nmes.length,
    ...(results.length && results.every((r) => r.realism)
      ? { realism: { seam: mean(results.map((r) => r.realism!.seam)), lighting: mean(results.map((r) => r.realism!.lighting)) } }
      : {}),
  };
}

/** The printed table: one row per engine; skipped engines get their note. */
export function formatTable(rows: EngineSummary[]): string {
  const head = ['engine', 'id→source', 'id→target', 'NME', 'no face', 'jitter ×', 'seam', 'lighting', 'flicker ×', 'occl. kept', 'pairs'];
  const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const body = rows.map((r) => r.status === 'skipped'
    ? [r.engine, `skipped: ${r.note ?? ''}`]
    : [r.engine, `${f(r.cosSource.mean)} (${f(r.cosSource.median)})`, `${f(r.cosTarget.mean)} (${f(r.cosTarget.median)})`,
      `${f(r.nme.mean, 4)} (${f(r.nme.median, 4)})`, String(r.noFace),
      r.jitter && !r.jitter.frames ? 'no face' : f(r.jitter?.ratio, 2),
      f(r.realism?.seam), f(r.realism?.lighting), f(r.realism?.flicker, 2), f(r.realism?.occluderKept, 2), String(r.pairs)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter((b) => i === 0 || b.length > 2).map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.length === 2 && cells !== head
    ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]}`
    : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line),
    'cells: mean (median) over pairs; id→ = judge cosine; NME over the 478 landmarks / outer-eye distance; jitter × = swapped / original (no face: too few video frames with a face)',
    'seam: gradient excess on the edge of the changed region over the unswapped frame\'s (0: none); lighting: 1 − correlation of the face\'s low-frequency shading with the target\'s; flicker ×: frame-to-frame change in the face, swapped / original; occl. kept: share of composited glasses and hand pixels left as they were'].join('\n');
}
