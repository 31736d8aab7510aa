import { describe, expect, it } from 'vitest';
import {
  IDENTITY_TRANSFER,
  applyTransfer,
  colourTransfer,
  labStats,
  labToSrgb,
  srgbToLab,
  type ColourStats,
} from '../src/colour.ts';
import { mulberry32 } from './random.ts';

type Rgb = [number, number, number];


function image(pixels: Rgb[], alpha = 255): Uint8ClampedArray {
  const out = new Uint8ClampedArray(pixels.length * 4);
  pixels.forEach(([r, g, b], i) => out.set([r, g, b, alpha], i * 4));
  return out;
}

/** Random pixels whose Lab values fall in the given boxes (all in gamut). */
function labImage(seed: number, count: number, L: [number, number], a: [number, number], b: [number, number]) {
  const rand = mulberry32(seed);
  const span = ([lo, hi]: [number, number]): number => lo + (hi - lo) * rand();
  return image(Array.from({ length: count }, () => labToSrgb(span(L), span(a), span(b)).map(Math.round) as Rgb));
}

function expectLab(actual: Rgb, expected: Rgb, digits: number): void {
  actual.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, digits));
}

describe('srgbToLab / labToSrgb', () => {
  it('maps white to L = 100, a = b = 0 and black to 0', () => {
    const [L, a, b] = srgbToLab(255, 255, 255);
    expect(Math.abs(L - 100)).toBeLessThan(0.01);
    expect(Math.abs(a)).toBeLessThan(0.01);
    expect(Math.abs(b)).toBeLessThan(0.01);
    expectLab(srgbToLab(0, 0, 0), [0, 0, 0], 9);
  });

  it('keeps greys neutral', () => {
    for (const v of [1, 10, 50, 128, 200, 254]) {
      const [, a, b] = srgbToLab(v, v, v);
      expect(Math.abs(a)).toBeLessThan(1e-9);
      expect(Math.abs(b)).toBeLessThan(1e-9);
    }
    expect(srgbToLab(128, 128, 128)[0]).toBeCloseTo(53.585, 2);
  });

  it('gives the standard values for the primaries', () => {
    expectLab(srgbToLab(255, 0, 0), [53.24, 80.09, 67.2], 1);
    expectLab(srgbToLab(0, 255, 0), [87.73, -86.18, 83.18], 1);
    expectLab(srgbToLab(0, 0, 255), [32.3, 79.19, -107.86], 1);
  });

  it('uses the linear segment of the sRGB curve for dark values', () => {
    // sRGB 1/255 is linear 1/255/12.92 → Y ≈ 0.000304 → L = κ·Y ≈ 0.274.
    expect(srgbToLab(1, 1, 1)[0]).toBeCloseTo((24389 / 27) * (1 / 255 / 12.92), 6);
  });

  it('round-trips sRGB → Lab → sRGB with error < 1 on a grid', () => {
    const levels = [0, 1, 2, 5, 10, 20, 40, 64, 100, 128, 160, 200, 230, 250, 254, 255];
    let worst = 0;
    for (const r of levels)
      for (const g of levels)
        for (const b of levels) {
          const back = labToSrgb(...srgbToLab(r, g, b));
          worst = Math.max(worst, Math.abs(back[0] - r), Math.abs(back[1] - g), Math.abs(back[2] - b));
        }
    expect(worst).toBeLessThan(1);
    expect(worst).toBeLessThan(1e-6); // in fact exact up to float rounding
  });

  it('clamps out-of-gamut Lab to 0–255', () => {
    expect(labToSrgb(150, 0, 0)).toEqual([255, 255, 255]);
    expect(labToSrgb(-20, 0, 0)).toEqual([0, 0, 0]);
    for (const v of labToSrgb(50, 200, -200)) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(255);
    }
  });
});

describe('labStats', () => {
  it('computes the mean and population std in Lab', () => {
    const stats = labStats(image([[0, 0, 0], [255, 255, 255]]));
    expect(stats.count).toBe(2);
    expectLab(stats.mean, [50, 0, 0], 6);
    expectLab(stats.std, [50, 0, 0], 6);
  });

  it('skips pixels with alpha < 128 when there is no mask', () => {
    const rgba = image([[255, 0, 0], [0, 0, 255], [0, 255, 0]]);
    rgba[4 + 3] = 127; // blue: transparent
    rgba[8 + 3] = 128; // green: counts
    const stats = labStats(rgba);
    expect(stats.count).toBe(2);
    const red = srgbToLab(255, 0, 0);
    const green = srgbToLab(0, 255, 0);
    expectLab(stats.mean, [0, 1, 2].map((k) => (red[k]! + green[k]!) / 2) as Rgb, 6);
  });

  it('uses only the mask (> 127 inside) when one is given, ignoring alpha', () => {
    const rgba = image([[255, 0, 0], [0, 0, 255], [0, 255, 0], [9, 9, 9]], 0);
    const stats = labStats(rgba, new Uint8Array([255, 127, 128, 0]));
    expect(stats.count).toBe(2);
    const red = srgbToLab(255, 0, 0);
    const green = srgbToLab(0, 255, 0);
    expectLab(stats.mean, [0, 1, 2].map((k) => (red[k]! + green[k]!) / 2) as Rgb, 6);
    expect(labStats(rgba, new Uint8ClampedArray(4)).count).toBe(0);
  });

  it('returns zeros for no counted pixels', () => {
    expect(labStats(new Uint8ClampedArray(0))).toEqual({ mean: [0, 0, 0], std: [0, 0, 0], count: 0 });
    expect(labStats(image([[1, 2, 3]], 0)).count).toBe(0);
  });

  it('gives a zero std for a flat image', () => {
    const stats = labStats(image(Array.from({ length: 100 }, (): Rgb => [201, 150, 120])));
    expectLab(stats.std, [0, 0, 0], 6);
  });

  it('rejects malformed input', () => {
    expect(() => labStats(new Uint8ClampedArray(7))).toThrow(/multiple of 4/);
    expect(() => labStats(new Uint8ClampedArray(8), new Uint8Array(3))).toThrow(/mask has 3 entries but the image has 2 pixels/);
  });
});

describe('colourTransfer', () => {
  const stats = (mean: Rgb, std: Rgb, count = 100): ColourStats => ({ mean, std, count });

  it('maps the source mean and std onto the target (Reinhard)', () => {
    const t = colourTransfer(stats([50, 10, 20], [10, 4, 5]), stats([60, 12, 15], [15, 2, 5]));
    expectLab(t.scale, [1.5, 0.5, 1], 12);
    expectLab(t.offset, [60 - 50 * 1.5, 12 - 10 * 0.5, 15 - 20], 12);
    // The source mean lands on the target mean.
    [50, 10, 20].forEach((m, k) => expect(m * t.scale[k]! + t.offset[k]!).toBeCloseTo([60, 12, 15][k]!, 12));
  });

  it('clamps the scale to [1 / maxScale, maxScale]', () => {
    const source = stats([50, 0, 0], [1, 10, 5]);
    const target = stats([50, 0, 0], [10, 1, 5]);
    expectLab(colourTransfer(source, target).scale, [2, 0.5, 1], 12);
    expectLab(colourTransfer(source, target, 4).scale, [4, 0.25, 1], 12);
    expectLab(colourTransfer(source, target, 1).scale, [1, 1, 1], 12);
    expect(() => colourTransfer(source, target, 0.5)).toThrow(/maxScale/);
  });

  it('uses scale 1 for a flat channel on either side and still shifts the mean', () => {
    const t = colourTransfer(stats([40, 5, 5], [0, 3, 3]), stats([70, 5, 5], [8, 0, 3]));
    expectLab(t.scale, [1, 1, 1], 12);
    expectLab(t.offset, [30, 0, 0], 12);
  });

  it('is the identity when either side counted no pixels', () => {
    const empty = stats([0, 0, 0], [0, 0, 0], 0);
    expect(colourTransfer(empty, stats([60, 1, 1], [5, 5, 5]))).toEqual(IDENTITY_TRANSFER);
    expect(colourTransfer(stats([60, 1, 1], [5, 5, 5]), empty)).toEqual(IDENTITY_TRANSFER);
  });
});

describe('applyTransfer', () => {
  it('makes the image statistics match the target (mean within 1, std within 5 %)', () => {
    // A pale, cool face crop recoloured to a darker, warmer frame.
    const source = labImage(1, 4000, [55, 80], [2, 12], [0, 14]);
    const target = labImage(2, 4000, [35, 65], [10, 18], [12, 30]);
    const targetStats = labStats(target);
    const t = colourTransfer(labStats(source), targetStats);
    // The case must exercise real scaling, not just a shift.
    expect(Math.max(...t.scale.map((s) => Math.abs(s - 1)))).toBeGreaterThan(0.1);
    applyTransfer(source, t);
    const result = labStats(source);
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(result.mean[k]! - targetStats.mean[k]!)).toBeLessThan(1);
      expect(Math.abs(result.std[k]! / targetStats.std[k]! - 1)).toBeLessThan(0.05);
    }
  });

  it('leaves the image unchanged for the identity transfer and keeps alpha', () => {
    const rgba = labImage(3, 500, [10, 95], [-40, 40], [-40, 40]);
    for (let i = 3; i < rgba.length; i += 8) rgba[i] = 17;
    const before = rgba.slice();
    applyTransfer(rgba, IDENTITY_TRANSFER);
    expect(rgba).toEqual(before);
  });

  it('changes only masked pixels when given a mask', () => {
    const rgba = image([[120, 100, 90], [120, 100, 90], [120, 100, 90]]);
    applyTransfer(rgba, { scale: [1, 1, 1], offset: [15, 0, 0] }, new Uint8Array([0, 200, 127]));
    expect(Array.from(rgba.subarray(0, 4))).toEqual([120, 100, 90, 255]);
    expect(Array.from(rgba.subarray(8, 12))).toEqual([120, 100, 90, 255]);
    expect(srgbToLab(rgba[4]!, rgba[5]!, rgba[6]!)[0]).toBeCloseTo(srgbToLab(120, 100, 90)[0] + 15, 0);
    expect(rgba[7]).toBe(255);
  });

  it('clamps results that leave the gamut', () => {
    const rgba = image([[250, 250, 250], [5, 5, 5]]);
    applyTransfer(rgba, { scale: [1, 1, 1], offset: [40, 0, 0] });
    expect(Array.from(rgba.subarray(0, 3))).toEqual([255, 255, 255]);
    expect(rgba[4]).toBeGreaterThan(5);
  });
});
