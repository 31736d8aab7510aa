import { describe, expect, it } from 'vitest';
import {
  MAX_TENSOR_BYTES,
  PackError,
  crc32,
  decodePack,
  encodePack,
  float32ToFloat16Bits,
  tensor,
  tensorOf,
  type IdentityPack,
  type PackErrorCode,
} from '../src/pack.ts';

function samplePack(size = 1): IdentityPack {
  const f32 = Float32Array.from({ length: 3 * 5 * size }, (_, i) => Math.sin(i) * 100);
  return {
    engine: 'mesh',
    label: 'Ada — café ☕',
    createdAt: '2025-01-02T03:04:05.000Z',
    meta: { cropSize: 224, nested: { ok: true, list: [1, 'two'] } },
    tensors: [
      { name: 'vertices', dtype: 'f32', shape: [3 * size, 5], data: f32 },
      { name: 'texture', dtype: 'u8', shape: [7, size], data: Uint8Array.from({ length: 7 * size }, (_, i) => i * 37) },
      { name: 'embedding', dtype: 'f16', shape: [3], data: float32ToFloat16Bits(new Float32Array([1, -2.5, 65504])) },
      { name: 'empty', dtype: 'f32', shape: [0, 4], data: new Float32Array(0) },
      { name: 'scalar', dtype: 'u8', shape: [], data: new Uint8Array([9]) },
    ],
  };
}

function expectPackError(fn: () => unknown, codes: PackErrorCode[], message?: RegExp): PackError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(PackError);
  const err = caught as PackError;
  expect(codes).toContain(err.code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

/** Builds raw pack bytes around an arbitrary header (valid magic, version, padding and CRC). */
function rawPack(header: unknown, dataLength: number, options: { version?: number; headerText?: string } = {}): Uint8Array {
  const headerBytes = new TextEncoder().encode(options.headerText ?? JSON.stringify(header));
  const dataStart = Math.ceil((12 + headerBytes.length) / 8) * 8;
  const out = new Uint8Array(dataStart + dataLength + 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('GPAK'));
  view.setUint32(4, options.version ?? 1, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function headerWith(tensors: unknown[]): Record<string, unknown> {
  return { engine: 'mesh', label: 'x', createdAt: '2025-01-01', meta: {}, tensors };
}

describe('crc32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('encodePack / decodePack', () => {
  it('round-trips every dtype, the header fields and meta', () => {
    const pack = samplePack();
    const decoded = decodePack(encodePack(pack));
    expect(decoded).toEqual(pack);
    expect(decoded.tensors.map((t) => t.data.constructor)).toEqual([
      Float32Array,
      Uint8Array,
      Uint16Array,
      Float32Array,
      Uint8Array,
    ]);
  });

  it('lays out the documented format', () => {
    const bytes = encodePack(samplePack());
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('GPAK');
    expect(view.getUint32(4, true)).toBe(1);
    const headerLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
    expect(header.tensors.map((t: { offset: number }) => t.offset)).toEqual([0, 64, 72, 80, 80]);
    expect(header.tensors[0]).toEqual({ name: 'vertices', dtype: 'f32', shape: [3, 5], offset: 0, byteLength: 60 });
    const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
    expect(Array.from(bytes.subarray(12 + headerLength, dataStart)).every((b) => b === 0)).toBe(true);
    // f32 data little-endian at the first offset.
    expect(view.getFloat32(dataStart + 4, true)).toBe(Math.fround(Math.sin(1) * 100));
    expect(bytes.length).toBe(dataStart + 88 + 4);
    expect(view.getUint32(bytes.length - 4, true)).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
  });

  it('decodes from an ArrayBuffer and from an unaligned Uint8Array view', () => {
    const bytes = encodePack(samplePack());
    expect(decodePack(bytes.slice().buffer)).toEqual(samplePack());
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const decoded = decodePack(shifted.subarray(3));
    expect(decoded).toEqual(samplePack());
    // Copies, not views into the input: the result survives the input changing.
    shifted.fill(0);
    expect(decoded.tensors[0]!.data[1]).toBe(Math.fround(Math.sin(1) * 100));
  });

  it('round-trips a pack without tensors', () => {
    const pack: IdentityPack = { engine: 'neural', label: '', createdAt: 'now', meta: {}, tensors: [] };
    expect(decodePack(encodePack(pack))).toEqual(pack);
  });

  it('refuses to encode inconsistent tensors', () => {
    const bad = (t: Partial<IdentityPack['tensors'][number]>) => () =>
      encodePack({ ...samplePack(), tensors: [{ name: 't', dtype: 'f32', shape: [2], data: new Float32Array(2), ...t }] });
    expectPackError(bad({ shape: [3] }), ['bad_header'], /shape \[3\] does not match 2 elements/);
    expectPackError(bad({ dtype: 'f16' }), ['bad_header'], /f16 needs a Uint16Array/);
    expectPackError(bad({ shape: [-1, -2] }), ['bad_header']);
    expectPackError(bad({ name: '' }), ['bad_header']);
    expectPackError(
      () =>
        encodePack({
          ...samplePack(),
          tensors: [samplePack().tensors[0]!, samplePack().tensors[0]!],
        }),
      ['bad_header'],
      /appears twice/,
    );
    expectPackError(() => encodePack({ ...samplePack(), meta: { n: 10n } }), ['bad_header'], /JSON/);
  });
});

describe('decodePack integrity', () => {
  it('detects a flipped bit anywhere', () => {
    const bytes = encodePack(samplePack());
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = bytes.slice();
        copy[i]! ^= 1 << bit;
        // Flips in the preamble are caught by the field they land in; everything else by the CRC.
        const codes: PackErrorCode[] =
          i < 4 ? ['bad_magic'] : i < 8 ? ['unsupported_version'] : i < 12 ? ['bad_checksum', 'truncated', 'bad_header'] : ['bad_checksum'];
        expectPackError(() => decodePack(copy), codes);
      }
    }
  });

  it('reports truncation at every 997th byte', () => {
    const bytes = encodePack(samplePack(300));
    expect(bytes.length).toBeGreaterThan(20_000);
    for (let end = 0; end < bytes.length; end += 997) {
      expectPackError(() => decodePack(bytes.subarray(0, end)), ['truncated', 'bad_checksum']);
    }
    expectPackError(() => decodePack(bytes.subarray(0, bytes.length - 1)), ['truncated', 'bad_checksum']);
    expectPackError(() => decodePack(new Uint8Array(0)), ['truncated']);
    expectPackError(() => decodePack(bytes.subarray(0, 20)), ['truncated'], /ends inside its header/);
  });

  it('rejects the wrong magic', () => {
    const bytes = encodePack(samplePack());
    bytes.set(new TextEncoder().encode('PK\x03\x04'));
    expectPackError(() => decodePack(bytes), ['bad_magic'], /GPAK/);
    expectPackError(() => decodePack(new TextEncoder().encode('GIF89a...')), ['bad_magic']);
  });

  it('rejects other versions', () => {
    expectPackError(() => decodePack(rawPack(headerWith([]), 0, { version: 2 })), ['unsupported_version'], /version 2/);
    expectPackError(() => decodePack(rawPack(headerWith([]), 0, { version: 0 })), ['unsupported_version']);
  });

  it('rejects trailing bytes after the tensors', () => {
    expectPackError(() => decodePack(rawPack(headerWith([]), 8)), ['bad_header'], /data section is 8 bytes/);
  });
});

describe('decodePack header validation', () => {
  const entry = (fields: Record<string, unknown>) => ({ name: 'a', dtype: 'f32', shape: [2], offset: 0, byteLength: 8, ...fields });

  it('accepts a hand-built valid header', () => {
    const pack = decodePack(rawPack(headerWith([entry({})]), 8));
    expect(Array.from(pack.tensors[0]!.data)).toEqual([0, 0]);
  });

  it('rejects non-JSON and schema violations', () => {
    expectPackError(() => decodePack(rawPack(null, 0, { headerText: '{not json' })), ['bad_header'], /not valid UTF-8 JSON/);
    expectPackError(() => decodePack(rawPack(null, 0, { headerText: '[]' })), ['bad_header'], /header is invalid/);
    expectPackError(() => decodePack(rawPack({ ...headerWith([]), engine: 7 }, 0)), ['bad_header'], /engine/);
    expectPackError(() => decodePack(rawPack(headerWith([entry({ dtype: 'f64' })]), 8)), ['bad_header'], /dtype/);
    expectPackError(() => decodePack(rawPack(headerWith([entry({ name: '' })]), 8)), ['bad_header']);
  });

  it('rejects invalid UTF-8 in the header', () => {
    const bytes = rawPack(headerWith([]), 0);
    const text = new TextEncoder().encode(JSON.stringify(headerWith([])));
    // Replace a quote with a lone continuation byte, then fix up the CRC.
    bytes[12 + text.indexOf(0x22)] = 0x80;
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
    expectPackError(() => decodePack(bytes), ['bad_header'], /UTF-8/);
  });

  it('rejects negative, unaligned, out-of-range and overlapping offsets', () => {
    expectPackError(() => decodePack(rawPack(headerWith([entry({ offset: -8 })]), 8)), ['bad_header']);
    expectPackError(() => decodePack(rawPack(headerWith([entry({ offset: 4 })]), 16)), ['bad_header'], /not 8-byte aligned/);
    expectPackError(() => decodePack(rawPack(headerWith([entry({ offset: 8 })]), 8)), ['bad_header'], /runs past the data/);
    expectPackError(
      () => decodePack(rawPack(headerWith([entry({ shape: [4], byteLength: 16 }), entry({ name: 'b', offset: 8 })]), 16)),
      ['bad_header'],
      /"a" and "b" overlap/,
    );
    expectPackError(
      () => decodePack(rawPack(headerWith([entry({}), entry({})]), 8)),
      ['bad_header'],
      /appears twice/,
    );
  });

  it('rejects a shape that does not match the byte length', () => {
    expectPackError(
      () => decodePack(rawPack(headerWith([entry({ shape: [3] })]), 8)),
      ['bad_header'],
      /shape \[3\] of f32 needs 12 bytes, header says 8/,
    );
    expectPackError(() => decodePack(rawPack(headerWith([entry({ shape: [2.5] })]), 8)), ['bad_header']);
  });

  it('rejects huge declared sizes without allocating them', () => {
    const huge = MAX_TENSOR_BYTES + 8;
    expectPackError(
      () => decodePack(rawPack(headerWith([entry({ dtype: 'u8', shape: [huge], byteLength: huge })]), 8)),
      ['bad_header'],
      /limit/,
    );
    const overflow = [2 ** 31, 2 ** 31, 2 ** 31];
    expectPackError(
      () => decodePack(rawPack(headerWith([entry({ dtype: 'u8', shape: overflow, byteLength: 8 })]), 8)),
      ['bad_header'],
    );
    expectPackError(
      () =>
        decodePack(
          rawPack(
            headerWith([
              entry({ dtype: 'u8', shape: [MAX_TENSOR_BYTES / 2 + 8], byteLength: MAX_TENSOR_BYTES / 2 + 8 }),
              entry({ name: 'b', dtype: 'u8', shape: [MAX_TENSOR_BYTES / 2], byteLength: MAX_TENSOR_BYTES / 2, offset: MAX_TENSOR_BYTES / 2 + 8 }),
            ]),
            8,
          ),
        ),
      ['bad_header'],
      /totals 67108872 bytes, over the 67108864-byte limit/,
    );
    // A header length field claiming gigabytes.
    const bytes = rawPack(headerWith([]), 0);
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    expectPackError(() => decodePack(bytes), ['bad_header'], /header of 4294967295 bytes/);
  });
});

describe('tensor', () => {
  it('finds a tensor by name and names the alternatives when missing', () => {
    const pack = samplePack();
    expect(tensor(pack, 'texture').dtype).toBe('u8');
    expectPackError(() => tensor(pack, 'weights'), ['bad_header'], /no tensor "weights"; it has: vertices, texture, embedding, empty, scalar/);
  });
});

describe('tensorOf', () => {
  it('returns the tensor when its dtype and shape are exactly the expected ones', () => {
    const pack = samplePack();
    expect(tensorOf(pack, 'texture', 'u8', [7, 1]).data).toBeInstanceOf(Uint8Array);
    expect(tensorOf(pack, 'scalar', 'u8', []).data[0]).toBe(9);
    expect(tensorOf(decodePack(encodePack(pack)), 'vertices', 'f32', [3, 5]).data).toBeInstanceOf(Float32Array);
  });

  it('refuses another dtype, another shape (even of the same size) or a missing tensor', () => {
    const pack = samplePack();
    expectPackError(() => tensorOf(pack, 'texture', 'f16', [7, 1]), ['bad_header'], /"texture" is u8, expected f16/);
    expectPackError(() => tensorOf(pack, 'vertices', 'f32', [5, 3]), ['bad_header'], /shape \[3, 5\], expected \[5, 3\]/);
    expectPackError(() => tensorOf(pack, 'vertices', 'f32', [3, 5, 1]), ['bad_header'], /expected \[3, 5, 1\]/);
    expectPackError(() => tensorOf(pack, 'nothing', 'u8', [1]), ['bad_header'], /no tensor "nothing"/);
  });
});
