// Paste-back geometry and the crop pixel formats of the idn engine.
import { describe, expect, it } from 'vitest';
import { alignmentFor, applyAffine, arcfaceTemplate, type Point } from '../src/align.ts';
import { planarToRgba, rgbaToPlanar } from '../src/crop.ts';
import { decodePack, encodePack, float32ToFloat16Bits, float16BitsToFloat32 } from '../src/pack.ts';
import { IDENTITY_TENSORS } from '../src/idn/tensors.ts';

describe('idn paste-back geometry', () => {
  // A face in a 640×480 frame: the template scaled, rotated by 20° and moved.
  const angle = (20 * Math.PI) / 180;
  const five: Point[] = arcfaceTemplate(112).map(([x, y]) => [
    300 + 1.7 * (Math.cos(angle) * x - Math.sin(angle) * y),
    120 + 1.7 * (Math.sin(angle) * x + Math.cos(angle) * y),
  ]);

  it.each([224, 128])('puts the face\'s keypoints on the template in a %i crop, and pastes them back where they were', (size) => {
    const { toCrop, toFrame } = alignmentFor(five, size);
    const template = arcfaceTemplate(size);
    five.forEach((p, i) => {
      const inCrop = applyAffine(toCrop, p);
      expect(inCrop[0]).toBeCloseTo(template[i]![0], 3);
      expect(inCrop[1]).toBeCloseTo(template[i]![1], 3);
      const back = applyAffine(toFrame, inCrop);
      expect(back[0]).toBeCloseTo(p[0], 3);
      expect(back[1]).toBeCloseTo(p[1], 3);
    });
    // The crop's corners land around the face, inside the frame.
    for (const corner of [[0, 0], [size, 0], [0, size], [size, size]] as Point[]) {
      const [x, y] = applyAffine(toFrame, corner);
      expect(x).toBeGreaterThan(0); expect(x).toBeLessThan(640);
      expect(y).toBeGreaterThan(0); expect(y).toBeLessThan(480);
    }
  });

  it('converts RGBA to planar [0,1] RGB and back, with the mask feathered to 0 at the crop border', () => {
    const size = 16;
    const rgba = new Uint8ClampedArray(size * size * 4).map((_, i) => (i * 37) % 256);
    const planar = rgbaToPlanar(rgba, size, new Float32Array(3 * size * size));
    expect(planar[0]).toBeCloseTo(rgba[0]! / 255);
    expect(planar[size * size]).toBeCloseTo(rgba[1]! / 255);
    expect(planar[2 * size * size + 5]).toBeCloseTo(rgba[5 * 4 + 2]! / 255);
    const mask = new Float32Array(size * size).fill(1);
    const out = planarToRgba(planar, mask, size, 4, new Uint8ClampedArray(size * size * 4));
    for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) expect(out[i * 4 + c]).toBeCloseTo(rgba[i * 4 + c]!, 0);
    const alpha = (x: number, y: number) => out[(y * size + x) * 4 + 3]!;
    expect(alpha(0, 0)).toBe(0); // border: pasted fully transparent
    expect(alpha(2, 8)).toBeCloseTo(255 * 0.5, -1); // halfway through the feather
    expect(alpha(8, 8)).toBe(255); // inside: the mask itself
  });
});

describe('idn identity pack', () => {
  it('round-trips the 18 tensors as fp16 within half precision', () => {
    const tensors = IDENTITY_TENSORS.map((name, k) => {
      const data = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + k) * 0.3);
      return { name, dtype: 'f16' as const, shape: [4, 16], data: float32ToFloat16Bits(data), original: data };
    });
    const bytes = encodePack({ engine: 'idn', label: 'Astronaut', createdAt: '2026-11-28T00:00:00Z', meta: { crop: 128 }, tensors });
    const back = decodePack(bytes);
    expect(back.engine).toBe('idn');
    expect(back.tensors.map((t) => t.name)).toEqual(IDENTITY_TENSORS);
    back.tensors.forEach((t, k) => {
      const restored = float16BitsToFloat32(t.data as Uint16Array);
      restored.forEach((v, i) => expect(Math.abs(v - tensors[k]!.original[i]!)).toBeLessThan(3e-4));
    });
  });
});
