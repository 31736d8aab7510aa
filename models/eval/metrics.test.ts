import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hash32, splitIdentities } from '../data/split.ts';
import {
  certainTestIdentities, EYE_OUTER, FACES_SEED, formatTable, interOcular, jitterRatio, mean, median, nme, secondDifference,
  selectPairs, summarise, type EvalIdentity,
} from './metrics.ts';

const N = 478;

/** A face whose outer eye corners are `iod` apart, every other point scattered around them. */
function face(iod = 100, seed = 1): Float64Array {
  const l = new Float64Array(2 * N);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < N; i++) { l[2 * i] = 200 + rnd() * iod; l[2 * i + 1] = 200 + rnd() * iod; }
  l[2 * EYE_OUTER[0]] = 200; l[2 * EYE_OUTER[0] + 1] = 250;
  l[2 * EYE_OUTER[1]] = 200 + iod; l[2 * EYE_OUTER[1] + 1] = 250;
  return l;
}

const shifted = (l: Float64Array, dx: number, dy: number) => l.map((v, i) => v + (i % 2 ? dy : dx));

describe('nme', () => {
  it('is 0 for the same landmarks and the shift over the eye distance for a shifted set', () => {
    const ref = face(80);
    expect(interOcular(ref)).toBeCloseTo(80);
    expect(nme(ref, ref)).toBe(0);
    expect(nme(shifted(ref, 3, 4), ref)).toBeCloseTo(5 / 80);
  });

  it('normalises by the reference, not the prediction', () => {
    const ref = face(100);
    const pred = ref.map((v) => v * 2); // twice the size, so its eye distance is 200
    const d = mean(Array.from({ length: N }, (_, i) => Math.hypot(ref[2 * i]!, ref[2 * i + 1]!)));
    expect(nme(pred, ref)).toBeCloseTo(d / 100);
  });

  it('refuses sets of different lengths', () => {
    expect(() => nme(face().subarray(0, 10), face())).toThrow(/differ/);
  });
});

describe('jitter', () => {
  it('does not count steady motion, only acceleration', () => {
    const base = face(100);
    const steady = Array.from({ length: 6 }, (_, t) => shifted(base, 5 * t, -2 * t));
    const r = jitterRatio(steady, steady);
    expect(r.original).toBeCloseTo(0);
    expect(r.frames).toBe(4);
  });

  it('is the second difference over the original eye distance, and the ratio compares both videos', () => {
    const base = face(100);
    const original = Array.from({ length: 5 }, (_, t) => shifted(base, 3 * t, 0)); // steady
    const swapped = original.map((l, t) => shifted(l, t % 2 ? 1 : -1, 0)); // ±1 px zig-zag: |second diff| = 4
    expect(secondDifference([swapped[0]!, swapped[1]!, swapped[2]!])).toBeCloseTo(4);
    // The original gets a 1 px bump at frame 2: second differences 1, 2, 1.
    const r = jitterRatio(original.map((l, t) => (t === 2 ? shifted(l, 0, 1) : l)), swapped);
    expect(r.frames).toBe(3);
    expect(r.original).toBeCloseTo(4 / 3 / 100);
    expect(r.swapped).toBeCloseTo(4 / 100);
    expect(r.ratio).toBeCloseTo(3);
  });

  it('skips frames whose neighbourhood lacks a face in either video', () => {
    const base = face(100);
    const original = Array.from({ length: 6 }, (_, t) => shifted(base, t * t, 0)); // constant acceleration 2 px
    const swapped: (Float64Array | null)[] = original.map((l) => shifted(l, 0, 0));
    swapped[3] = null; // frames 2, 3, 4 lose their triple
    const r = jitterRatio(original, swapped);
    expect(r.frames).toBe(1);
    expect(r.original).toBeCloseTo(2 / 100);
    expect(r.ratio).toBeCloseTo(1);
    expect(jitterRatio([null, null, null], [null, null, null]).ratio).toBeNaN();
  });
});

describe('summaries', () => {
  it('mean and median', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mean([])).toBeNaN();
  });

  it('counts outputs with no face and leaves them out of the NME', () => {
    const s = summarise('mesh', [
      { cosSource: 0.5, cosTarget: 0.2, nme: 0.02 },
      { cosSource: 0.3, cosTarget: 0.4, nme: null },
      { cosSource: 0.1, cosTarget: 0.6, nme: 0.04 },
    ]);
    expect(s.pairs).toBe(3);
    expect(s.noFace).toBe(1);
    expect(s.nme.mean).toBeCloseTo(0.03);
    expect(s.cosSource.mean).toBeCloseTo(0.3);
    expect(s.cosTarget.median).toBeCloseTo(0.4);
  });

  it('formats a table with a row per engine and skipped rows with their note', () => {
    const ok = {
      ...summarise('mesh', [{ cosSource: 0.4567, cosTarget: 0.2, nme: 0.0312, realism: { seam: 0.5, lighting: 0.25 } }]),
      jitter: { ratio: 1.234, original: 1, swapped: 1, frames: 3, noFace: 0 },
    };
    ok.realism = { ...ok.realism!, flicker: 1.5, occluderKept: 0.75 };
    const table = formatTable([ok, { ...summarise('idn-guided', []), status: 'skipped', note: 'no model at models/idn/x' }]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^engine\s+id→source\s+id→target\s+NME\s+no face\s+jitter ×\s+seam\s+lighting\s+flicker ×\s+occl\. kept\s+pairs$/);
    expect(lines[2]).toMatch(/^mesh\s+0\.457 \(0\.457\)\s+0\.200 \(0\.200\)\s+0\.0312 \(0\.0312\)\s+0\s+1\.23\s+0\.500\s+0\.250\s+1\.50\s+0\.75\s+1$/);
    expect(lines[3]).toMatch(/^idn-guided\s+skipped: no model at models\/idn\/x$/);
    const faceless = { ...ok, engine: 'idn-random', jitter: { ratio: NaN, original: NaN, swapped: NaN, frames: 0, noFace: 20 } };
    expect(formatTable([faceless]).split('\n')[2]).toMatch(/\s0\s+no face\s+0\.500\s+0\.250\s+1\.50\s+0\.75\s+1$/);
  });
});

describe('held-out identities and pairs', () => {
  const names = Array.from({ length: 341 }, (_, i) => `celeba:${1000 + i}`);

  it('certain test identities are in the test split whichever identities keep a photo', () => {
    const certain = certainTestIdentities(names);
    expect(certain).toHaveLength(30);
    let s = 7;
    for (let trial = 0; trial < 20; trial++) {
      // Drop a random tenth of the identities, as failed photos would.
      const kept = names.filter(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) > 0.1);
      const split = splitIdentities(kept, { seed: FACES_SEED });
      for (const id of certain) expect(split.get(id) ?? 'test').toBe('test'); // absent: dropped
    }
    // Ordered as splitIdentities ranks them.
    const keys = certain.map((id) => hash32(`${FACES_SEED}\u0000${id}`));
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
  });

  const cache = path.join(process.env.GUISE_CACHE ?? path.join(os.homedir(), '.cache/guise'), 'faces-v1/index.json');
  it.skipIf(!fs.existsSync(cache))('agrees with the prepared cache where one is present', () => {
    const rows = (JSON.parse(fs.readFileSync(cache, 'utf8')) as { rows: { identity: string; split: string }[] }).rows;
    const test = new Set(rows.filter((r) => r.split === 'test').map((r) => r.identity));
    const kept = new Set(rows.map((r) => r.identity));
    for (const id of certainTestIdentities([...kept])) expect(test.has(id)).toBe(true);
  });

  it('pairs different identities, spreads the targets, and lands on a second photo where there is one', () => {
    const ids: EvalIdentity[] = Array.from({ length: 34 }, (_, i) => ({ identity: `id${i}`, photos: i % 3 ? [`p${i}a`, `p${i}b`] : [`p${i}a`] }));
    const pairs = selectPairs(ids, 34, 4);
    expect(pairs).toHaveLength(34 * 4);
    for (const p of pairs) {
      expect(p.target).not.toBe(p.source);
      expect(p.sourcePhoto).toBe(`p${p.source.slice(2)}a`);
      const t = Number(p.target.slice(2));
      expect(p.targetPhoto).toBe(t % 3 ? `p${t}b` : `p${t}a`);
    }
    // Each identity is a target as often as a source, and a source's targets are distinct.
    const asTarget = new Map<string, number>();
    for (const p of pairs) asTarget.set(p.target, (asTarget.get(p.target) ?? 0) + 1);
    expect([...asTarget.values()].every((c) => c === 4)).toBe(true);
    expect(new Set(pairs.filter((p) => p.source === 'id0').map((p) => p.target)).size).toBe(4);
    // Deterministic.
    expect(selectPairs(ids, 34, 4)).toEqual(pairs);
  });

  it('quick mode: one target each, and never more targets than other identities', () => {
    const ids: EvalIdentity[] = Array.from({ length: 8 }, (_, i) => ({ identity: `id${i}`, photos: [`p${i}`] }));
    const pairs = selectPairs(ids, 8, 1);
    expect(pairs).toHaveLength(8);
    expect(new Set(pairs.map((p) => p.target)).size).toBe(8);
    expect(selectPairs(ids.slice(0, 3), 3, 5)).toHaveLength(3 * 2);
    expect(() => selectPairs(ids.slice(0, 1), 1, 1)).toThrow(/at least 2/);
  });
});
