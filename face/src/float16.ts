// IEEE 754 binary16 ↔ binary32, with f16 values held as raw Uint16 bits
// (Float16Array isn't available everywhere yet).

/** Round-to-nearest-even; overflow → ±Infinity; NaN stays NaN (quiet); subnormals kept. */
export function float32ToFloat16Bits(x: Float32Array): Uint16Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfFromFloatBits(bits[i]!);
  return out;
}

/** Exact: every binary16 value is representable in binary32. */
export function float16BitsToFloat32(x: Uint16Array): Float32Array {
  const table = halfToFloatTable();
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = table[x[i]!]!;
  return out;
}

function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    // Infinity, or NaN forced quiet so no payload truncation can turn it into Infinity.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;

  if (halfExponent <= 0) {
    // Below 2^-25 everything rounds to zero (2^-25 itself ties to even: zero).
    if (halfExponent < -10) return sign;
    // Subnormal half: shift the full 24-bit significand down to units of 2^-24.
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(significand, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** value >> shift, rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

let cachedTable: Float32Array | undefined;

// 256 KiB, built on first use: decoding large f16 tensors becomes a lookup.
function halfToFloatTable(): Float32Array {
  if (cachedTable) return cachedTable;
  const table = new Float32Array(0x10000);
  for (let h = 0; h < 0x10000; h++) table[h] = halfToFloat(h);
  cachedTable = table;
  return table;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
