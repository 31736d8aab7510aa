// The bench's frame numbers and their analysis: pure, no browser.
import { describe, expect, it } from 'vitest';
import { CameraLog, cameraFps, classify, latencies, maxGap } from '../bench/call-analysis.ts';
import { THUMB, type PresentedFrame } from '../bench/call-pages.ts';
import { readStamp, STAMP, stampFrame } from '../lib/frameStamp.ts';

/** The stamp row of a stamped 640×480 frame as RGBA, with `noise` added to every pixel. */
function stampRow(index: number, noise = (_: number) => 0): Uint8ClampedArray {
  const w = STAMP.frameWidth, h = STAMP.frameHeight;
  const y = new Uint8Array(w * h).fill(100), u = new Uint8Array((w * h) / 4), v = new Uint8Array((w * h) / 4);
  stampFrame(y, u, v, w, index);
  const rgba = new Uint8ClampedArray(STAMP.width * STAMP.block * 4);
  for (let r = 0; r < STAMP.block; r++) {
    for (let x = 0; x < STAMP.width; x++) {
      const l = y[(STAMP.y + r) * w + STAMP.x + x]! + noise(r * STAMP.width + x);
      rgba.set([l, l, l, 255], (r * STAMP.width + x) * 4);
    }
  }
  return rgba;
}

describe('frame stamps', () => {
  it('reads back every index, through codec-like noise', () => {
    for (let i = 0; i < 2 ** STAMP.bits; i++) {
      expect(readStamp(stampRow(i, (p) => ((p * 7919) % 41) - 20), STAMP.width, STAMP.blocks, STAMP.block)).toBe(i);
    }
  });

  it('refuses a row with no stamp or a flipped bit', () => {
    expect(readStamp(new Uint8ClampedArray(STAMP.width * STAMP.block * 4).fill(120), STAMP.width, STAMP.blocks, STAMP.block)).toBe(-1);
    const row = stampRow(5);
    // Block 2 + 9 is the last bit (1 for index 5): paint it black.
    for (let r = 0; r < STAMP.block; r++) for (let x = 11 * STAMP.block; x < 12 * STAMP.block; x++) row.fill(16, (r * STAMP.width + x) * 4, (r * STAMP.width + x) * 4 + 3);
    expect(readStamp(row, STAMP.width, STAMP.blocks, STAMP.block)).toBe(-1);
  });
});

describe('call analysis', () => {
  const frame = (t: number, stamp: number, shade = 0): PresentedFrame => ({ t, stamp, thumb: new Array(THUMB.w * THUMB.h).fill(shade) });

  it('matches a received frame to the latest time the looping camera showed its number', () => {
    const camera = new CameraLog();
    // Read 0–10 ms after capture; the least delay (0) puts capture times on the wall clock.
    camera.add([[0, 1000, 1_000_000, 1], [1, 1043, 1_033_000, 1], [0, 7000, 7_000_000, 1], [-1, 7033, 7_033_000, 1]]);
    expect(latencies([frame(1150, 0), frame(7120, 0), frame(7200, 1), frame(9000, -1)], camera)).toEqual([150, 120]);
    expect(latencies([frame(1040, 1)], camera)).toEqual([7]); // captured at 1033, though read at 1043
  });

  it('counts camera frames by number: missed reads count, repeats and the loop do not', () => {
    // Read over 1.2 s of capture time (µs): 6 frames of the camera's.
    const read = (stamps: number[]) => stamps.map((s, i): [number, number, number, number] => [s, i, i * 200_000, 1]);
    expect(cameraFps(read([178, 179, 0, 3, 3, 2, 4]), 180)).toBe(5);
  });

  it('finds the longest gap in a span, a stream that stopped included', () => {
    const frames = [0, 33, 66, 500, 533].map((t) => frame(t, 0));
    expect(maxGap(frames, 0, 533)).toBe(434);
    expect(maxGap(frames, 0, 2000)).toBe(1467);
  });

  it('tells the looks apart at the same frame number', () => {
    const looks = { old: new Map([[3, frame(0, 3, 50).thumb]]), new: new Map([[3, frame(0, 3, 90).thumb]]) };
    expect(classify(frame(0, 3, 60), looks, 180)).toBe('old');
    expect(classify(frame(0, 3, 80), looks, 180)).toBe('new');
    expect(classify(frame(0, 4, 80), looks, 180)).toBe('new'); // the nearest number stands in
    expect(classify(frame(0, 100, 80), looks, 180)).toBeUndefined();
  });
});
