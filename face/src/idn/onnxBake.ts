// Turns graph inputs of an ONNX model into initializers, by editing the
// protobuf bytes directly (no protobuf library needed for these few fields).
// It builds one identity's generator with its 18 tensors baked in: the
// runtime can then pre-pack those weights instead of reading them per frame.
//
// ModelProto.graph = 7; GraphProto.initializer = 5, .input = 11;
// ValueInfoProto.name = 1; TensorProto.dims = 1, .data_type = 2, .name = 8, .raw_data = 9.

export interface BakedTensor { name: string; dims: readonly number[]; data: Float32Array }

interface Field { no: number; wire: number; start: number; end: number; value: [number, number] }

function readVarint(b: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0, shift = 0, p = pos;
  for (;;) {
    if (p >= b.length) throw new Error('ONNX model is truncated');
    const byte = b[p++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [value, p];
    shift += 7;
    if (shift > 63) throw new Error('bad varint in ONNX model');
  }
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function fields(b: Uint8Array, from = 0, to = b.length): Field[] {
  const list: Field[] = [];
  for (let p = from; p < to;) {
    const start = p;
    const [key, afterKey] = readVarint(b, p);
    const no = Math.floor(key / 8), wire = key % 8;
    let value: [number, number];
    if (wire === 0) { const [, n] = readVarint(b, afterKey); value = [afterKey, n]; p = n; }
    else if (wire === 1) { value = [afterKey, afterKey + 8]; p = afterKey + 8; }
    else if (wire === 5) { value = [afterKey, afterKey + 4]; p = afterKey + 4; }
    else if (wire === 2) { const [len, n] = readVarint(b, afterKey); value = [n, n + len]; p = n + len; }
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (p > to) throw new Error('ONNX model is truncated');
    list.push({ no, wire, start, end: p, value });
  }
  return list;
}

function lengthDelimited(no: number, payload: Uint8Array): Uint8Array {
  return concat([varint(no * 8 + 2), varint(payload.length), payload]);
}

function tensorProto(t: BakedTensor): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const d of t.dims) parts.push(varint(1 * 8 + 0), varint(d));
  parts.push(varint(2 * 8 + 0), varint(1)); // data_type FLOAT
  parts.push(lengthDelimited(8, new TextEncoder().encode(t.name)));
  // raw_data is little-endian, like every platform a browser runs on.
  parts.push(lengthDelimited(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  return concat(parts);
}

export function bakeInitializers(model: Uint8Array, tensors: BakedTensor[]): Uint8Array {
  const names = new Set(tensors.map((t) => t.name));
  const top = fields(model);
  const graph = top.find((f) => f.no === 7 && f.wire === 2);
  if (!graph) throw new Error('not an ONNX model: no graph');
  const decoder = new TextDecoder();
  const kept: Uint8Array[] = [];
  const removed = new Set<string>();
  for (const f of fields(model, ...graph.value)) {
    if (f.no === 11 && f.wire === 2) {
      const nameField = fields(model, ...f.value).find((g) => g.no === 1 && g.wire === 2);
      const name = nameField ? decoder.decode(model.subarray(...nameField.value)) : '';
      if (names.has(name)) { removed.add(name); continue; }
    }
    kept.push(model.subarray(f.start, f.end));
  }
  const missing = [...names].filter((n) => !removed.has(n));
  if (missing.length) throw new Error(`the model has no inputs named ${missing.join(', ')}`);
  for (const t of tensors) kept.push(lengthDelimited(5, tensorProto(t)));
  return concat(top.map((f) => (f === graph ? lengthDelimited(7, concat(kept)) : model.subarray(f.start, f.end))));
}
