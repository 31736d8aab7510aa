import { describe, expect, it } from 'vitest';
import { detectMark, markLayout, paintMark } from '../src/disclosureMark.ts';
import { mulberry32 } from './random.ts';

const W = 640, H = 480;

/** A frame of smooth noise around mid-grey, like a face video's background. */
function noisyFrame(seed: number, amplitude = 60): Uint8Array {
  const rnd = mulberry32(seed);
  const luma = new Uint8Array(W * H);
  for (let i = 0; i < luma.length; i++) luma[i] = 128 + (rnd() - 0.5) * amplitude;
  return luma;
}

/** 3×3 box blur: what a codec does to sharp edges, roughly. */
function blur(luma: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(luma.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0, n = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) { s += luma[yy * w + xx]!; n++; }
    }
    out[y * w + x] = s / n;
  }
  return out;
}

/** Nearest-neighbour downscale to `w`×`h`. */
function scale(luma: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = luma[Math.floor((y * H) / h) * W + Math.floor((x * W) / w)]!;
  return out;
}

describe('disclosure mark', () => {
  it('sits in the top-right corner, inside the frame, and is small', () => {
    const l = markLayout(W, H, 70);
    expect(l.plate.x + l.plate.w).toBeLessThan(W);
    expect(l.plate.x).toBeGreaterThan(W / 2);
    expect(l.plate.y + l.plate.h).toBeLessThan(H / 8);
    expect(l.plate.w * l.plate.h).toBeLessThan(0.03 * W * H);
    // The word goes on the plate, left of the cells.
    expect(l.text.right).toBeLessThan(l.code.x);
    expect(l.text.right - 70).toBeGreaterThan(l.plate.x);
  });

  it('is read back from a painted frame, also blurred, noisy or scaled down', () => {
    const frame = noisyFrame(1);
    expect(detectMark(frame, W, H).present).toBe(false);
    paintMark(frame, W, H);
    expect(detectMark(frame, W, H)).toMatchObject({ present: true });
    expect(detectMark(blur(blur(frame, W, H), W, H), W, H).present).toBe(true);
    expect(detectMark(scale(frame, 320, 240), 320, 240).present).toBe(true);
    const noisy = frame.map((v, i) => Math.max(0, Math.min(255, v + ((i * 7919) % 31) - 15)));
    expect(detectMark(noisy, W, H).present).toBe(true);
  });

  it('is not seen where there is none: flat, noisy, striped or inverted frames', () => {
    for (let seed = 2; seed < 12; seed++) expect(detectMark(noisyFrame(seed, 255), W, H).present).toBe(false);
    expect(detectMark(new Uint8Array(W * H).fill(235), W, H).present).toBe(false);
    expect(detectMark(new Uint8Array(W * H).fill(16), W, H).present).toBe(false);
    // Vertical stripes one cell wide, alternating: the wrong pattern.
    const { cell } = markLayout(W, H);
    const stripes = new Uint8Array(W * H).map((_, i) => (Math.floor((i % W) / cell) % 2 ? 235 : 16));
    expect(detectMark(stripes, W, H).present).toBe(false);
    const inverted = noisyFrame(3);
    paintMark(inverted, W, H);
    expect(detectMark(inverted.map((v) => 255 - v), W, H).present).toBe(false);
  });
});
