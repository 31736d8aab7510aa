// Baking identity tensors into the generator must not change what it computes.
// Runs the real exported (random-weight) generator under onnxruntime-node.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { bakeInitializers } from '../src/idn/onnxBake.ts';
import { IDENTITY_TENSORS } from '../src/idn/tensors.ts';

const dir = path.resolve(__dirname, '../../models/idn/random-128');
const modelFile = path.join(dir, 'generator.onnx');

function random(dims: readonly number[], seed: number): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; out[i] = (s / 2 ** 32 - 0.5) * 0.2; }
  return out;
}

describe('bakeInitializers', () => {
  it('rejects bytes that are not an ONNX model, and inputs the model lacks', () => {
    expect(() => bakeInitializers(new Uint8Array([8, 1]), [])).toThrow(/no graph/);
    const model = new Uint8Array(fs.readFileSync(modelFile));
    expect(() => bakeInitializers(model, [{ name: 'nope', dims: [1], data: new Float32Array(1) }])).toThrow(/no inputs named nope/);
  });

  it('gives the same output as feeding the same tensors as inputs', async () => {
    const model = new Uint8Array(fs.readFileSync(modelFile));
    const fed = await ort.InferenceSession.create(model);
    const meta = await ort.InferenceSession.create(model); // shapes of the identity inputs
    const shapes = Object.fromEntries(IDENTITY_TENSORS.map((name) => {
      const info = meta.inputMetadata.find((m) => m.name === name) as { shape: number[] } | undefined;
      if (!info) throw new Error(`generator has no input ${name}`);
      return [name, info.shape];
    }));
    const identity = IDENTITY_TENSORS.map((name, i) => ({ name, dims: shapes[name]!, data: random(shapes[name]!, i + 1) }));
    const baked = await ort.InferenceSession.create(bakeInitializers(model, identity));
    expect(baked.inputNames).toEqual(['target']);

    const crop = 128;
    const target = new ort.Tensor('float32', random([1, 3, crop, crop], 99).map((v) => v + 0.5), [1, 3, crop, crop]);
    const a = await fed.run({ target, ...Object.fromEntries(identity.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)])) });
    const b = await baked.run({ target });
    for (const name of fed.outputNames) {
      const x = a[name]!.data as Float32Array, y = b[name]!.data as Float32Array;
      let max = 0;
      for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
      expect(max, name).toBeLessThan(1e-5);
    }
  });
});
