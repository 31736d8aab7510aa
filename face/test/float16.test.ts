import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../src/pack.ts';

const toHalf = (x: number): number => float32ToFloat16Bits(new Float32Array([x]))[0]!;
const fromHalf = (h: number): number => float16BitsToFloat32(new Uint16Array([h]))[0]!;

describe('float32ToFloat16Bits', () => {
  it('encodes well-known values exactly', () => {
    const known: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [-2.5, 0xc100],
      [65504, 0x7bff], // largest finite
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [x, bits] of known) expect(toHalf(x), `${x}`).toBe(bits);
  });

  it('round-trips every finite and infinite half exactly', () => {
    const all = new Uint16Array(0x10000).map((_, i) => i);
    const floats = float16BitsToFloat32(all);
    const back = float32ToFloat16Bits(floats);
    for (let h = 0; h < 0x10000; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) {
        expect(Number.isNaN(floats[h])).toBe(true);
        expect(back[h]! & 0x7c00).toBe(0x7c00);
        expect(back[h]! & 0x3ff).not.toBe(0);
      } else if (back[h] !== h) {
        expect.fail(`half 0x${h.toString(16)} → ${floats[h]} → 0x${back[h]!.toString(16)}`);
      }
    }
  });

  it('rounds to nearest, ties to even', () => {
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie, 0x3c00 is even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, round up to even
    expect(toHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(toHalf(1 + 2 ** -11 - 2 ** -20)).toBe(0x3c00); // just below
    expect(toHalf(-(1 + 3 * 2 ** -11))).toBe(0xbc02);
    expect(toHalf(2 - 2 ** -12)).toBe(0x4000); // mantissa carry into the exponent → 2.0
    expect(toHalf(2 - 2 ** -10)).toBe(0x3fff);
  });

  it('rounds subnormals and underflow correctly', () => {
    expect(toHalf(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal → 0
    expect(toHalf(2 ** -25 * (1 + 2 ** -23))).toBe(0x0001);
    expect(toHalf(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 → 2
    expect(toHalf(5 * 2 ** -25)).toBe(0x0002); // tie between 2 and 3 → 2
    expect(toHalf(2 ** -26)).toBe(0x0000);
    expect(toHalf(-(2 ** -24))).toBe(0x8001);
    expect(toHalf(-(2 ** -30))).toBe(0x8000); // keeps the sign of zero
    expect(toHalf(1e-45)).toBe(0x0000); // float32 subnormal
    expect(toHalf((2 ** -14) * (1 - 2 ** -12))).toBe(0x0400); // rounds up into the normals
  });

  it('overflows to infinity past the largest half (ties to even)', () => {
    expect(toHalf(65519)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00); // tie between 65504 (odd) and 65536 → infinity
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(-3.4e38)).toBe(0xfc00);
  });

  it('keeps NaN a NaN', () => {
    const h = toHalf(Number.NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    // A float32 NaN whose payload lives only in the low bits must not become infinity.
    const f = new Float32Array(1);
    new Uint32Array(f.buffer)[0] = 0x7f800001;
    const low = float32ToFloat16Bits(f)[0]!;
    expect(low & 0x3ff).not.toBe(0);
    expect(Number.isNaN(fromHalf(low))).toBe(true);
  });

  it('picks the nearest half for arbitrary values', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const xs = Float32Array.from({ length: 20000 }, () => (rand() - 0.5) * 2 ** (Math.floor(rand() * 40) - 24));
    const hs = float32ToFloat16Bits(xs);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const h = hs[i]!;
      const err = Math.abs(fromHalf(h) - x);
      // Neither neighbour (same sign, one ulp either side) is strictly closer.
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) > 0x7bff || (n & 0x8000) !== (h & 0x8000)) continue;
        expect(err).toBeLessThanOrEqual(Math.abs(fromHalf(n) - x));
      }
    }
  });

  it('reads a subarray view at an offset', () => {
    const backing = new Float32Array([9, 1, 2]);
    expect(Array.from(float32ToFloat16Bits(backing.subarray(1)))).toEqual([0x3c00, 0x4000]);
  });
});

describe('float16BitsToFloat32', () => {
  it('decodes signed zeros, subnormals, infinities and NaN', () => {
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
    expect(fromHalf(0x0001)).toBe(2 ** -24);
    expect(fromHalf(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(fromHalf(0x7c00)).toBe(Infinity);
    expect(fromHalf(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(fromHalf(0x7e00))).toBe(true);
    expect(float16BitsToFloat32(new Uint16Array(0))).toHaveLength(0);
  });
});
