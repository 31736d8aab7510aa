// Identity pack: a versioned binary container for per-identity data (the
// mesh engine's cut-out face, the neural engine's conditioning tensors).
// Layout, all integers little-endian:
//
//   "GPAK" | u32 version (1) | u32 header byte length | UTF-8 JSON header
//   | zero padding to 8 bytes | tensor data | u32 CRC-32 of all bytes before it
//
// Tensor offsets in the header are relative to the start of the data section
// and 8-byte aligned, so each tensor can be viewed in place by any typed array;
// the data section ends at the last tensor's end rounded up to 8 bytes.
// Decoding trusts nothing: the checksum, the header schema and every offset,
// size and overlap are checked before a byte of tensor data is copied.

import { z } from 'zod';
import { crc32 } from './crc32.ts';

export { crc32 } from './crc32.ts';
export { float16BitsToFloat32, float32ToFloat16Bits } from './float16.ts';

export type PackDtype = 'f32' | 'f16' | 'u8';

export interface PackTensor {
  name: string;
  dtype: PackDtype;
  shape: number[];
  /** f16 is stored as raw IEEE half bits. */
  data: Float32Array | Uint16Array | Uint8Array;
}

export interface IdentityPack {
  engine: string;
  label: string;
  createdAt: string;
  meta: Record<string, unknown>;
  tensors: PackTensor[];
}

export type PackErrorCode = 'bad_magic' | 'unsupported_version' | 'truncated' | 'bad_checksum' | 'bad_header';

export class PackError extends Error {
  readonly code: PackErrorCode;

  constructor(code: PackErrorCode, message: string) {
    super(message);
    this.name = 'PackError';
    this.code = code;
  }
}

export const PACK_MAGIC = 'GPAK';
/** Format version written into every pack; bump when the layout changes. */
export const PACK_FORMAT_VERSION = 1;
export const PACK_VERSION = PACK_FORMAT_VERSION;
/** Upper bound on all tensor data in one pack. */
export const MAX_TENSOR_BYTES = 64 * 1024 * 1024;
export const MAX_HEADER_BYTES = 1024 * 1024;

const PREAMBLE_BYTES = 12; // magic + version + header length
const CHECKSUM_BYTES = 4;
const MAX_PACK_BYTES = align8(PREAMBLE_BYTES + MAX_HEADER_BYTES) + MAX_TENSOR_BYTES + CHECKSUM_BYTES;
const MAGIC_BYTES = new TextEncoder().encode(PACK_MAGIC);

const BYTES_PER_ELEMENT: Record<PackDtype, number> = { f32: 4, f16: 2, u8: 1 };

const tensorEntrySchema = z.object({
  name: z.string().min(1).max(256),
  dtype: z.enum(['f32', 'f16', 'u8']),
  shape: z.array(z.number().int().nonnegative()).max(8),
  offset: z.number().int().nonnegative(),
  byteLength: z.number().int().nonnegative(),
});

const headerSchema = z.object({
  engine: z.string().max(256),
  label: z.string().max(1024),
  createdAt: z.string().max(64),
  meta: z.record(z.string(), z.unknown()),
  tensors: z.array(tensorEntrySchema).max(4096),
});

type TensorEntry = z.infer<typeof tensorEntrySchema>;

export function encodePack(pack: IdentityPack): Uint8Array {
  const entries: TensorEntry[] = [];
  let dataLength = 0;
  for (const t of pack.tensors) {
    checkTensorForEncoding(t);
    entries.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], offset: dataLength, byteLength: t.data.byteLength });
    dataLength = align8(dataLength + t.data.byteLength);
  }
  const header = { engine: pack.engine, label: pack.label, createdAt: pack.createdAt, meta: pack.meta, tensors: entries };
  // Encode exactly what a decoder will accept, so a bad pack fails here, not on load.
  const parsedHeader = headerSchema.safeParse(header);
  if (!parsedHeader.success) {
    throw new PackError('bad_header', `cannot encode pack: ${describeIssues(parsedHeader.error)}`);
  }
  checkLayout(entries, dataLength);

  let json: string;
  try {
    json = JSON.stringify(header);
  } catch (e) {
    throw new PackError('bad_header', `cannot encode pack: meta is not JSON-serialisable (${String(e)})`);
  }
  const headerBytes = new TextEncoder().encode(json);
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw new PackError('bad_header', `cannot encode pack: header is ${headerBytes.length} bytes, over ${MAX_HEADER_BYTES}`);
  }

  const dataStart = align8(PREAMBLE_BYTES + headerBytes.length);
  const out = new Uint8Array(dataStart + dataLength + CHECKSUM_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  view.setUint32(4, PACK_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREAMBLE_BYTES);
  pack.tensors.forEach((t, i) => writeLittleEndian(out, dataStart + entries[i]!.offset, t.data));
  view.setUint32(out.length - CHECKSUM_BYTES, crc32(out.subarray(0, out.length - CHECKSUM_BYTES)), true);
  return out;
}

export function decodePack(input: ArrayBuffer | Uint8Array): IdentityPack {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (bytes.length < MAGIC_BYTES.length) {
    throw new PackError('truncated', `identity pack is only ${bytes.length} bytes`);
  }
  if (!MAGIC_BYTES.every((b, i) => bytes[i] === b)) {
    throw new PackError('bad_magic', 'not an identity pack (missing "GPAK" signature)');
  }
  if (bytes.length < PREAMBLE_BYTES + CHECKSUM_BYTES) {
    throw new PackError('truncated', `identity pack is only ${bytes.length} bytes`);
  }
  const version = view.getUint32(4, true);
  if (version !== PACK_VERSION) {
    throw new PackError('unsupported_version', `identity pack version ${version} is not supported (expected ${PACK_VERSION})`);
  }
  if (bytes.length > MAX_PACK_BYTES) {
    throw new PackError('bad_header', `identity pack is ${bytes.length} bytes, over the ${MAX_PACK_BYTES}-byte limit`);
  }
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new PackError('bad_header', `header of ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const dataStart = align8(PREAMBLE_BYTES + headerLength);
  const checksumAt = bytes.length - CHECKSUM_BYTES;
  if (dataStart > checksumAt) {
    throw new PackError('truncated', `identity pack ends inside its header (${bytes.length} bytes)`);
  }
  if (crc32(bytes.subarray(0, checksumAt)) !== view.getUint32(checksumAt, true)) {
    throw new PackError('bad_checksum', 'identity pack is damaged (checksum mismatch)');
  }

  const header = parseHeader(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength));
  if (bytes.subarray(PREAMBLE_BYTES + headerLength, dataStart).some((b) => b !== 0)) {
    throw new PackError('bad_header', 'header padding is not zero');
  }
  checkLayout(header.tensors, checksumAt - dataStart);

  return {
    engine: header.engine,
    label: header.label,
    createdAt: header.createdAt,
    meta: header.meta,
    tensors: header.tensors.map((e) => ({
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      data: readLittleEndian(bytes, dataStart + e.offset, e.dtype, e.byteLength),
    })),
  };
}

/** The named tensor, or a PackError naming what the pack does have. */
export function tensor(pack: IdentityPack, name: string): PackTensor {
  const found = pack.tensors.find((t) => t.name === name);
  if (!found) {
    const have = pack.tensors.map((t) => t.name).join(', ') || 'none';
    throw new PackError('bad_header', `identity pack (${pack.engine}) has no tensor "${name}"; it has: ${have}`);
  }
  return found;
}

/** The named tensor typed as its dtype's array, or a PackError unless it has exactly this dtype and shape. */
export function tensorOf(pack: IdentityPack, name: string, dtype: 'f32', shape: readonly number[]): PackTensor & { data: Float32Array };
export function tensorOf(pack: IdentityPack, name: string, dtype: 'f16', shape: readonly number[]): PackTensor & { data: Uint16Array };
export function tensorOf(pack: IdentityPack, name: string, dtype: 'u8', shape: readonly number[]): PackTensor & { data: Uint8Array };
export function tensorOf(pack: IdentityPack, name: string, dtype: PackDtype, shape: readonly number[]): PackTensor {
  const t = tensor(pack, name);
  const expectedType = { f32: Float32Array, f16: Uint16Array, u8: Uint8Array }[dtype];
  if (t.dtype !== dtype || !(t.data instanceof expectedType)) {
    throw new PackError('bad_header', `identity pack tensor "${name}" is ${t.dtype}, expected ${dtype}`);
  }
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== elementCount(shape)) {
    throw new PackError('bad_header', `identity pack tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return t;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function parseHeader(headerBytes: Uint8Array): z.infer<typeof headerSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw new PackError('bad_header', 'identity pack header is not valid UTF-8 JSON');
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PackError('bad_header', `identity pack header is invalid: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Sizes match shapes and are bounded; offsets are aligned, in range and disjoint. */
function checkLayout(entries: readonly TensorEntry[], dataLength: number): void {
  checkSizes(entries);
  let end = 0;
  for (const e of entries) {
    if (e.offset % 8 !== 0) throw new PackError('bad_header', `tensor "${e.name}" offset ${e.offset} is not 8-byte aligned`);
    if (e.offset + e.byteLength > dataLength) {
      throw new PackError('bad_header', `tensor "${e.name}" (offset ${e.offset}, ${e.byteLength} bytes) runs past the data`);
    }
    end = Math.max(end, e.offset + e.byteLength);
  }
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.offset < prev.offset + prev.byteLength) {
      throw new PackError('bad_header', `tensors "${prev.name}" and "${cur.name}" overlap`);
    }
  }
  if (dataLength !== align8(end)) {
    throw new PackError('bad_header', `data section is ${dataLength} bytes but the tensors need ${align8(end)}`);
  }
}

function checkSizes(entries: readonly TensorEntry[]): void {
  const names = new Set<string>();
  let total = 0;
  for (const e of entries) {
    if (names.has(e.name)) throw new PackError('bad_header', `tensor "${e.name}" appears twice`);
    names.add(e.name);
    if (e.byteLength > MAX_TENSOR_BYTES || e.shape.some((d) => d > MAX_TENSOR_BYTES)) {
      throw new PackError('bad_header', `tensor "${e.name}" is over the ${MAX_TENSOR_BYTES}-byte limit`);
    }
    // Dimensions are bounded, so the product is at worst a large finite float, never NaN.
    const expected = elementCount(e.shape) * BYTES_PER_ELEMENT[e.dtype];
    if (expected !== e.byteLength) {
      throw new PackError(
        'bad_header',
        `tensor "${e.name}": shape [${e.shape.join(', ')}] of ${e.dtype} needs ${expected} bytes, header says ${e.byteLength}`,
      );
    }
    total += e.byteLength;
  }
  if (total > MAX_TENSOR_BYTES) {
    throw new PackError('bad_header', `tensor data totals ${total} bytes, over the ${MAX_TENSOR_BYTES}-byte limit`);
  }
}

function checkTensorForEncoding(t: PackTensor): void {
  const expectedType = { f32: Float32Array, f16: Uint16Array, u8: Uint8Array }[t.dtype];
  if (!expectedType || !(t.data instanceof expectedType)) {
    throw new PackError('bad_header', `cannot encode tensor "${t.name}": dtype ${t.dtype} needs a ${expectedType?.name ?? 'known'} array`);
  }
  const count = t.shape.every((d) => Number.isInteger(d) && d >= 0) ? elementCount(t.shape) : NaN;
  if (count !== t.data.length) {
    throw new PackError('bad_header', `cannot encode tensor "${t.name}": shape [${t.shape.join(', ')}] does not match ${t.data.length} elements`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || 'header'}: ${i.message}`)
    .join('; ');
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeLittleEndian(out: Uint8Array, at: number, data: PackTensor['data']): void {
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(out.subarray(at, at + data.byteLength), data.BYTES_PER_ELEMENT);
}

/** Copies into a fresh, aligned typed array (the source may sit at any offset). */
function readLittleEndian(bytes: Uint8Array, at: number, dtype: PackDtype, byteLength: number): PackTensor['data'] {
  const size = BYTES_PER_ELEMENT[dtype];
  const data =
    dtype === 'f32' ? new Float32Array(byteLength / size) : dtype === 'f16' ? new Uint16Array(byteLength / size) : new Uint8Array(byteLength);
  const target = new Uint8Array(data.buffer);
  target.set(bytes.subarray(at, at + byteLength));
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(target, size);
  return data;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}
