import { describe, expect, it } from 'vitest';
import {
  MAX_PREDICTION_S,
  OneEuroFilter,
  PointSmoother,
  defaultLandmarkParams,
  smoothingFactor,
  type OneEuroParams,
} from '../src/oneEuro.ts';
import { mulberry32 } from './random.ts';


function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function variance(xs: number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
}

const FPS = 30;
const DT = 1 / FPS;

/** Samples until the filter output is within 5 % of a unit step. */
function samplesToSettle(params: OneEuroParams, from: number, to: number): number {
  const f = new OneEuroFilter(params);
  for (let i = 0; i < 30; i++) f.filter(from, i * DT);
  const tolerance = 0.05 * Math.abs(to - from);
  for (let n = 1; n <= 1000; n++) {
    if (Math.abs(f.filter(to, (30 + n - 1) * DT) - to) <= tolerance) return n;
  }
  return Infinity;
}

describe('smoothingFactor', () => {
  it('matches 1 / (1 + tau / dt) with tau = 1 / (2π fc)', () => {
    expect(smoothingFactor(1, DT)).toBeCloseTo(1 / (1 + FPS / (2 * Math.PI)), 12);
    expect(smoothingFactor(1e9, DT)).toBeCloseTo(1, 6);
  });
});

describe('OneEuroFilter', () => {
  it('passes the first sample through unchanged', () => {
    const f = new OneEuroFilter(defaultLandmarkParams);
    expect(f.filter(123.5, 10)).toBe(123.5);
  });

  it('keeps a constant signal constant', () => {
    const f = new OneEuroFilter(defaultLandmarkParams);
    for (let i = 0; i < 200; i++) expect(f.filter(321.25, i * DT)).toBe(321.25);
  });

  it('reduces the variance of noise around a static value', () => {
    const rand = mulberry32(7);
    const f = new OneEuroFilter(defaultLandmarkParams);
    const raw: number[] = [];
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const x = 200 + gaussian(rand); // ~1 px landmark jitter
      raw.push(x);
      out.push(f.filter(x, i * DT));
    }
    const ratio = variance(out.slice(100)) / variance(raw.slice(100));
    // An exponential filter with alpha ≈ 0.17 alone would give ≈ 0.095.
    expect(ratio).toBeLessThan(0.25);
  });

  it('follows a step with bounded lag', () => {
    // 100 px jump (a quick head movement between frames).
    const n = samplesToSettle(defaultLandmarkParams, 100, 200);
    expect(n).toBeLessThanOrEqual(3);
    // Even with beta = 0 the 1 Hz floor settles within ~0.6 s (16 frames).
    expect(samplesToSettle({ ...defaultLandmarkParams, beta: 0 }, 100, 200)).toBeLessThanOrEqual(18);
  });

  it('follows a ramp more closely with a larger beta', () => {
    const lagAfterRamp = (beta: number): number => {
      const f = new OneEuroFilter({ ...defaultLandmarkParams, beta });
      let out = 0;
      let value = 0;
      for (let i = 0; i < 60; i++) {
        value = i * 10; // 300 px/s
        out = f.filter(value, i * DT);
      }
      return value - out;
    };
    const slow = lagAfterRamp(0);
    const fast = lagAfterRamp(0.05);
    const faster = lagAfterRamp(0.5);
    expect(fast).toBeLessThan(slow);
    expect(faster).toBeLessThan(fast);
    expect(faster).toBeGreaterThanOrEqual(0);
    expect(samplesToSettle({ ...defaultLandmarkParams, beta: 1 }, 0, 100)).toBeLessThan(
      samplesToSettle({ ...defaultLandmarkParams, beta: 0 }, 0, 100),
    );
  });

  it('forgets its history on reset', () => {
    const f = new OneEuroFilter(defaultLandmarkParams);
    for (let i = 0; i < 50; i++) f.filter(0, i * DT);
    f.reset();
    // The next sample is a "first" sample again, even at an earlier time.
    expect(f.filter(500, 0)).toBe(500);
    expect(f.filter(500, DT)).toBe(500);
  });

  it('returns the previous output when dt <= 0', () => {
    const f = new OneEuroFilter(defaultLandmarkParams);
    f.filter(10, 1);
    const y = f.filter(20, 1 + DT);
    expect(f.filter(1000, 1 + DT)).toBe(y); // repeated timestamp
    expect(f.filter(-1000, 0.5)).toBe(y); // time went backwards
    const next = f.filter(20, 1 + 2 * DT);
    expect(Number.isFinite(next)).toBe(true);
    expect(next).toBeGreaterThan(y);
    expect(next).toBeLessThanOrEqual(20);
  });

  it('handles irregular frame times', () => {
    const f = new OneEuroFilter(defaultLandmarkParams);
    const times = [0, 0.03, 0.031, 0.1, 0.25, 0.26, 0.4];
    for (const t of times) expect(Number.isFinite(f.filter(50 + t * 10, t))).toBe(true);
  });

  it('rejects nonsensical parameters', () => {
    expect(() => new OneEuroFilter({ minCutoff: 0, beta: 0, dCutoff: 1 })).toThrow(/minCutoff/);
    expect(() => new OneEuroFilter({ minCutoff: 1, beta: -1, dCutoff: 1 })).toThrow(/beta/);
    expect(() => new OneEuroFilter({ minCutoff: 1, beta: 0, dCutoff: NaN })).toThrow(/dCutoff/);
  });
});

describe('PointSmoother', () => {
  it('smooths each coordinate independently, interleaved like the input', () => {
    const s = new PointSmoother(2, 3);
    const out0 = s.apply(new Float32Array([1, 2, 3, 4, 5, 6]), 0);
    expect(Array.from(out0)).toEqual([1, 2, 3, 4, 5, 6]);
    const out1 = s.apply(new Float32Array([1, 2, 3, 14, 5, 6]), DT);
    // Only the coordinate that moved changes, and it lags behind the jump.
    expect(Array.from(out1.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(out1[3]).toBeGreaterThan(4);
    expect(out1[3]).toBeLessThan(14);
    expect(Array.from(out1.subarray(4))).toEqual([5, 6]);
  });

  it('matches a lone OneEuroFilter per coordinate', () => {
    const rand = mulberry32(3);
    const s = new PointSmoother(3, 2, defaultLandmarkParams);
    const lone = Array.from({ length: 6 }, () => new OneEuroFilter(defaultLandmarkParams));
    const input = new Float32Array(6);
    for (let i = 0; i < 40; i++) {
      for (let k = 0; k < 6; k++) input[k] = 100 * k + 5 * gaussian(rand);
      const out = s.apply(input, i * DT);
      for (let k = 0; k < 6; k++) {
        expect(out[k]).toBeCloseTo(Math.fround(lone[k]!.filter(input[k]!, i * DT)), 3);
      }
    }
  });

  it('reuses its output array (no per-frame allocation)', () => {
    const s = new PointSmoother(478, 2);
    const input = new Float32Array(478 * 2).fill(7);
    const a = s.apply(input, 0);
    const b = s.apply(input, DT);
    expect(b).toBe(a);
    expect(a).not.toBe(input);
  });

  it('forgets its history on reset', () => {
    const s = new PointSmoother(1, 2);
    for (let i = 0; i < 20; i++) s.apply(new Float32Array([0, 0]), i * DT);
    s.reset();
    expect(Array.from(s.apply(new Float32Array([300, 400]), 0))).toEqual([300, 400]);
  });

  it('predicts a skipped frame of a steadily moving point ahead of the last smoothed value, without changing the filter', () => {
    const s = new PointSmoother(1, 2);
    const twin = new PointSmoother(1, 2);
    let last = new Float32Array(2);
    for (let i = 0; i < 30; i++) {
      const p = new Float32Array([200 * i * DT, 50]); // 200 px/s along x
      last = Float32Array.from(s.apply(p, i * DT));
      twin.apply(p, i * DT);
    }
    const t = 30 * DT;
    const predicted = Float32Array.from(s.predict(t));
    expect(predicted[0]).toBeGreaterThan(last[0]!);
    expect(predicted[0]).toBeLessThanOrEqual(200 * t + 1); // not past where the point really is
    expect(Math.abs(200 * t - predicted[0]!)).toBeLessThan(Math.abs(200 * t - last[0]!));
    expect(predicted[1]).toBeCloseTo(50, 3); // a still coordinate stays put
    // The filter's state is untouched: the next real frame smooths as if nothing was predicted.
    expect(Array.from(s.apply(new Float32Array([200 * (t + DT), 50]), t + DT)))
      .toEqual(Array.from(twin.apply(new Float32Array([200 * (t + DT), 50]), t + DT)));
  });

  it('extrapolates at most MAX_PREDICTION_S ahead: a long gap holds where the motion had got to', () => {
    const s = new PointSmoother(1, 2);
    for (let i = 0; i < 30; i++) s.apply(new Float32Array([200 * i * DT, 50]), i * DT);
    const t = 29 * DT;
    const capped = s.predict(t + MAX_PREDICTION_S)[0]!;
    expect(capped).toBeGreaterThan(s.predict(t + MAX_PREDICTION_S / 2)[0]!);
    expect(s.predict(t + 0.6)[0]).toBe(capped);
  });

  it('predicts nothing (NaN) before any points, and the last value for a repeated time', () => {
    const s = new PointSmoother(1, 2);
    expect(Array.from(s.predict(0)).every(Number.isNaN)).toBe(true);
    s.apply(new Float32Array([3, 4]), 1);
    expect(Array.from(s.predict(1))).toEqual([3, 4]);
  });

  it('rejects input of the wrong length and bad point counts', () => {
    const s = new PointSmoother(5, 2);
    expect(() => s.apply(new Float32Array(9), 0)).toThrow(/5 points × 2 = 10 values, got 9/);
    expect(() => new PointSmoother(0, 2)).toThrow(RangeError);
    expect(() => new PointSmoother(1.5, 3)).toThrow(RangeError);
  });
});
