// `pnpm identity pack`: an identity pack made offline on onnxruntime-node,
// with the app's own face tracker, that the generator accepts.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { IDENTITY_TENSORS } from '../../client/src/engines/idn/tensors.ts';
import { decodePack, float16BitsToFloat32 } from '../../client/src/identity/pack.ts';
import { findModel, packPhoto, PackProblem } from '../../scripts/identity/pack.ts';
import { randomIdnModel } from '../lib/models.ts';
import { facelessPng, kitPhoto } from '../lib/photos.ts';

describe('identity pack CLI', () => {
  const model = randomIdnModel();

  it('packs a one-face photo into 18 fp16 tensors the generator runs with', async () => {
    const pack = decodePack(await packPhoto(kitPhoto('deepface-pairs/img5.jpg'), { model, label: 'X' }));
    expect(pack.engine).toBe('idn');
    expect(pack.label).toBe('X');
    expect(pack.tensors.map((t) => t.name)).toEqual(IDENTITY_TENSORS);
    expect(pack.tensors.every((t) => t.dtype === 'f16')).toBe(true);

    const generator = await ort.InferenceSession.create(path.join(model, 'generator.onnx'));
    const feeds: Record<string, ort.Tensor> = { target: new ort.Tensor('float32', new Float32Array(3 * 128 * 128).fill(0.5), [1, 3, 128, 128]) };
    for (const t of pack.tensors) feeds[t.name] = new ort.Tensor('float32', float16BitsToFloat32(t.data as Uint16Array), t.shape);
    const out = await generator.run(feeds);
    const swapped = out.swapped!.data as Float32Array;
    expect(swapped.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
  });

  it('refuses photos without exactly one face, with the app\'s messages', async () => {
    await expect(packPhoto(facelessPng(), { model })).rejects.toMatchObject({ problem: { code: 'no_face' } });
    await expect(packPhoto(kitPhoto('deepface-pairs/couple.jpg'), { model })).rejects.toThrow(PackProblem);
    await expect(packPhoto(kitPhoto('deepface-pairs/couple.jpg'), { model })).rejects.toThrow(/2 faces/);
  });

  it('says what to do when there is no model', () => {
    expect(() => findModel('/nonexistent')).toThrow(/no identity.onnx/);
  });
});
