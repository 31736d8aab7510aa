// The guide warp of the warp-guided IDN (face/triangleWarp.ts). Its parity
// with the Python definition (models/teacher/warp.py) on real faces is
// models/tests/test_guide_parity.py; here, its geometry on meshes whose
// answers are known.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, type Affine } from '../src/align.ts';
import { triangles as faceTriangles } from '../src/mesh.ts';
import { TriangleWarp, type WarpImage } from '../src/triangleWarp.ts';

/** An n×n grid of points spanning [x0, x0+span]² and its 2·(n-1)² triangles. */
function grid(n: number, x0: number, span: number) {
  const xy: number[] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) xy.push(x0 + (span * i) / (n - 1), x0 + (span * j) / (n - 1));
  const tris: number[] = [];
  for (let j = 0; j < n - 1; j++) {
    for (let i = 0; i < n - 1; i++) {
      const k = j * n + i;
      tris.push(k, k + 1, k + n + 1, k, k + n + 1, k + n);
    }
  }
  return { xy, tris };
}

const mapPoints = (xy: number[], m: Affine) => xy.flatMap((_, k) => (k % 2 ? [] : applyAffine(m, [xy[k]!, xy[k + 1]!])));

/** An image whose pixel (x, y) is `f(x, y)` in every channel but alpha (which is garbage, to be ignored). */
function image(width: number, height: number, channels: number, f: (x: number, y: number, c: number) => number): WarpImage {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = c === 3 ? 77 : f(x, y, c);
  return { data, width, height, channels };
}

const planes = (out: Float32Array, size: number, offset = 0) => ({
  /** In 8-bit levels: the planes hold multiples of 1/255 (as float32). */
  rgb: (c: number, x: number, y: number) => {
    const v = out[offset + c * size * size + y * size + x]! * 255;
    expect(Math.abs(v - Math.round(v))).toBeLessThan(1e-4);
    return Math.round(v);
  },
  mask: (x: number, y: number) => out[offset + 3 * size * size + y * size + x]!,
});

describe('TriangleWarp', () => {
  it('reproduces the image inside the mask when source and target landmarks are the same (face mesh, real landmarks)', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../models/tests/fixtures/guide_landmarks.json', import.meta.url), 'utf8')) as { faces: { landmarks224: number[][] }[] };
    const xy = fixture.faces[0]!.landmarks224.flat().map((v) => v * (128 / 224));
    const src = image(128, 128, 4, (x, y, c) => (x * 7 + y * 13 + c * 50) % 256);
    const warp = new TriangleWarp(128, 128, faceTriangles());
    const out = new Float32Array(4 * 128 * 128);
    const covered = warp.warp(src, xy, xy, out);
    expect(covered).toBeGreaterThan(0.3 * 128 * 128);
    const p = planes(out, 128);
    let inside = 0;
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        if (!p.mask(x, y)) continue;
        inside++;
        for (let c = 0; c < 3; c++) expect(p.rgb(c, x, y)).toBeCloseTo(src.data[(y * 128 + x) * 4 + c]!, 3);
      }
    }
    expect(inside).toBe(covered);
  });

  it('matches the analytic affine warp when the landmarks move by an affine map', () => {
    // Source: a linear ramp, so bilinear sampling is exact and the expected value is analytic.
    const ramp = (x: number, y: number, c: number) => 20 + 2 * x + y + 10 * c;
    const src = image(64, 64, 3, ramp);
    const { xy, tris } = grid(6, 4, 56);
    const size = 80;
    const angle = 0.3;
    const m: Affine = [1.1 * Math.cos(angle), -1.1 * Math.sin(angle), 12, 1.1 * Math.sin(angle), 1.1 * Math.cos(angle), 2];
    const back = invertAffine(m);
    const warp = new TriangleWarp(size, size, tris);
    const out = new Float32Array(4 * size * size);
    warp.warp(src, xy, mapPoints(xy, m), out);
    const p = planes(out, size);
    let checked = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const [sx, sy] = applyAffine(back, [x, y]);
        // Clearly inside the mesh (the grid spans [4, 60]²) or clearly outside.
        const margin = Math.min(sx - 4, sy - 4, 60 - sx, 60 - sy);
        if (margin > 0.01) {
          expect(p.mask(x, y)).toBe(1);
          // 1/32-pixel sample grid (≤ 3/64 of a level on this ramp) plus the 8-bit rounding.
          for (let c = 0; c < 3; c++) expect(Math.abs(p.rgb(c, x, y) - ramp(sx, sy, c))).toBeLessThanOrEqual(0.55);
          checked++;
        } else if (margin < -0.01) {
          expect(p.mask(x, y)).toBe(0);
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('writes exactly 0 outside the mesh, and only its four planes', () => {
    const { xy, tris } = grid(3, 10, 20);
    const size = 40;
    const src = image(64, 64, 3, () => 200);
    const warp = new TriangleWarp(size, size, tris);
    const offset = 3 * size * size; // after the target RGB, as in the 7-channel input
    const out = new Float32Array(7 * size * size).fill(7);
    const covered = warp.warp(src, xy, xy, out, offset);
    expect(covered).toBe(21 * 21); // pixel centres 10..30 on both axes
    expect(out.subarray(0, offset).every((v) => v === 7)).toBe(true);
    const p = planes(out, size, offset);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = x >= 10 && x <= 30 && y >= 10 && y <= 30;
        expect(p.mask(x, y)).toBe(inside ? 1 : 0);
        for (let c = 0; c < 3; c++) expect(p.rgb(c, x, y)).toBe(inside ? 200 : 0);
      }
    }
    // A second call with the mesh elsewhere leaves nothing of the first behind.
    warp.warp(src, xy, xy.map((v) => v + 5), out, offset);
    expect(p.mask(10, 10)).toBe(0);
    expect(p.rgb(0, 10, 10)).toBe(0);
    expect(p.mask(35, 35)).toBe(1);
  });

  it('skips degenerate target triangles, which never overwrite an earlier one', () => {
    // Triangle 0 covers; triangle 1 (collinear) and 2 (one point) are degenerate; 3 has a NaN vertex.
    const xy = [0, 0, 20, 0, 0, 20, 5, 5, 10, 10, 3, 3, NaN, 4];
    const tris = [0, 1, 2, 0, 3, 4, 5, 5, 5, 0, 1, 6];
    const src = image(32, 32, 3, (x) => x * 4);
    const warp = new TriangleWarp(24, 24, tris);
    const out = new Float32Array(4 * 24 * 24);
    const covered = warp.warp(src, xy, xy, out);
    expect(covered).toBe(21 * 22 / 2); // x + y <= 20
    const p = planes(out, 24);
    expect(p.rgb(0, 5, 5)).toBe(20);
    expect(p.mask(21, 0)).toBe(0);
    // All degenerate: nothing at all.
    expect(new TriangleWarp(24, 24, [0, 3, 4, 5, 5, 5]).warp(src, xy, xy, out)).toBe(0);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('lets a later triangle overwrite an earlier one where they overlap', () => {
    // Two identical target triangles, each with its own source triangle.
    const dst = [0, 0, 16, 0, 0, 16, 0, 0, 16, 0, 0, 16];
    const srcXY = [0, 0, 16, 0, 0, 16, 40, 0, 56, 0, 40, 16];
    const src = image(64, 20, 3, (x) => (x < 32 ? 10 : 240));
    const warp = new TriangleWarp(20, 20, [0, 1, 2, 3, 4, 5]);
    const out = new Float32Array(4 * 20 * 20);
    warp.warp(src, srcXY, dst, out);
    expect(planes(out, 20).rgb(1, 4, 4)).toBe(240);
    warp.warp(src, srcXY, dst.slice(0, 6).concat(99, 99, 120, 99, 99, 120), out); // the later one off the crop
    expect(planes(out, 20).rgb(1, 4, 4)).toBe(10);
  });

  it('clips target triangles to the crop and reads 0 outside the source', () => {
    const size = 20;
    const src = image(16, 16, 3, () => 100);
    const warp = new TriangleWarp(size, size, [0, 1, 2, 0, 2, 3]);
    const out = new Float32Array(4 * size * size);
    // A square from (-10, -10) to (10, 10): only its in-crop quarter is covered.
    const dstSquare = [-10, -10, 10, -10, 10, 10, -10, 10];
    expect(warp.warp(src, [0, 0, 15, 0, 15, 15, 0, 15], dstSquare, out)).toBe(11 * 11);
    // Wholly off the crop: nothing covered, no error.
    expect(warp.warp(src, [0, 0, 15, 0, 15, 15, 0, 15], dstSquare.map((v) => v - 100), out)).toBe(0);
    expect(out.every((v) => v === 0)).toBe(true);
    // The source square lies half outside the source image (x from 8 to 28): covered, but black there.
    const dst = [0, 0, 19, 0, 19, 19, 0, 19];
    warp.warp(src, [8, 0, 27, 0, 27, 19, 8, 19], dst, out);
    const p = planes(out, size);
    expect(p.mask(2, 2)).toBe(1);
    expect(p.rgb(0, 2, 2)).toBe(100); // source x = 10
    expect(p.mask(15, 2)).toBe(1);
    expect(p.rgb(0, 15, 2)).toBe(0); // source x = 23: outside
    expect(p.rgb(0, 7, 2)).toBe(100); // source x = 15, the last column
    // Bilinear at the border: halfway between the last column and the outside reads half.
    warp.warp(src, [0, 0, 19, 0, 19, 19, 0, 19].map((v, k) => (k % 2 ? v : v + 15.5 - 7)), dst, out);
    expect(p.rgb(0, 7, 2)).toBe(50);
  });

  it('refuses landmarks the mesh has no room for, and an output that is too small', () => {
    const warp = new TriangleWarp(8, 8, [0, 1, 5]);
    const src = image(8, 8, 3, () => 0);
    expect(() => warp.warp(src, new Array(10).fill(0), new Array(12).fill(0), new Float32Array(256))).toThrow(/6 landmarks/);
    expect(() => warp.warp(src, new Array(12).fill(0), new Array(12).fill(0), new Float32Array(255))).toThrow(/256 floats/);
    expect(() => new TriangleWarp(8, 8, [0, 1])).toThrow(/threes/);
  });

  it('takes a few milliseconds at most at 128 on the face mesh', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../models/tests/fixtures/guide_landmarks.json', import.meta.url), 'utf8')) as { faces: { landmarks224: number[][] }[] };
    const srcXY = Float64Array.from(fixture.faces[0]!.landmarks224.flat());
    const dstXY = Float64Array.from(fixture.faces[1]!.landmarks224.flat(), (v) => v * (128 / 224));
    const src = image(224, 224, 3, (x, y, c) => (x + 2 * y + 40 * c) % 256);
    const warp = new TriangleWarp(128, 128, faceTriangles());
    const out = new Float32Array(7 * 128 * 128);
    for (let i = 0; i < 30; i++) warp.warp(src, srcXY, dstXY, out, 3 * 128 * 128); // warm up the JIT
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      warp.warp(src, srcXY, dstXY, out, 3 * 128 * 128);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`triangle warp at 128: median ${times[25]!.toFixed(3)} ms, best ${times[0]!.toFixed(3)} ms`);
    expect(times[25]!).toBeLessThan(10); // generous: the test machine's cores are shared
  });
});
