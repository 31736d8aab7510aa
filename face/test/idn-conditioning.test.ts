// IDN conditioning over an injected runtime: what identity.onnx and
// conditioner.onnx are fed, and the pack assembled from their outputs.
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import type { Affine } from '../src/align.ts';
import { conditionIdentity, IDENTITY_CROP } from '../src/idn/conditioning.ts';
import { GUIDE_FACE, GUIDE_LANDMARKS } from '../src/idn/guide.ts';
import { parseIdnManifest } from '../src/idn/manifest.ts';
import { IDENTITY_TENSORS } from '../src/idn/tensors.ts';
import { float16BitsToFloat32, tensor } from '../src/pack.ts';

const toCrop: Affine = [0.5, 0, -10, 0, 0.5, -20];

/** A session that records its feeds and answers `outputs`. */
function stub(inputNames: string[], outputs: Record<string, ort.Tensor>, seen: Record<string, ort.Tensor>[]): InferenceSession {
  return {
    inputNames, outputNames: Object.keys(outputs),
    run: async (feeds: Record<string, ort.Tensor>) => { seen.push(feeds); return outputs; },
  } as unknown as InferenceSession;
}

async function run(guideChannels: 0 | 4) {
  const model = await parseIdnManifest(new TextEncoder().encode(JSON.stringify({ crop: 128, guide_channels: guideChannels, weights: 'random' })));
  const rgba = Uint8ClampedArray.from({ length: IDENTITY_CROP ** 2 * 4 }, (_, i) => i % 256);
  const points = Float32Array.from({ length: 478 * 3 }, (_, i) => 40 + (i % 300));
  const seenId: Record<string, ort.Tensor>[] = [], seenCond: Record<string, ort.Tensor>[] = [];
  const embedding = new ort.Tensor('float32', new Float32Array(512).fill(0.5), [1, 512]);
  const latent = new ort.Tensor('float32', new Float32Array(8).fill(1), [1, 8]);
  const identity = stub(['face'], { embedding, latent }, seenId);
  const conditioner = stub(['embedding', 'latent'], Object.fromEntries(IDENTITY_TENSORS.map((n, k) => [n, new ort.Tensor('float32', new Float32Array(6).fill(k / 4), [1, 2, 3])])), seenCond);
  const pack = await conditionIdentity(ort, { identity, conditioner }, { rgba, points, toCrop }, model, { label: 'Ada', meta: { source: 'test' } });
  return { pack, model, seenId, seenCond, embedding, latent };
}

describe('conditionIdentity', () => {
  it('feeds the 224 crop as planar [0,1] RGB, the encoder\'s two outputs to the conditioner, and packs its 18 tensors as fp16', async () => {
    const { pack, model, seenId, seenCond, embedding, latent } = await run(0);
    const face = seenId[0]!.face!;
    expect(face.dims).toEqual([1, 3, IDENTITY_CROP, IDENTITY_CROP]);
    expect((face.data as Float32Array)[1]).toBeCloseTo(4 / 255); // pixel 1's red
    expect((face.data as Float32Array)[IDENTITY_CROP ** 2]).toBeCloseTo(1 / 255); // pixel 0's green
    expect(seenCond[0]).toEqual({ embedding, latent });
    expect(pack).toMatchObject({ engine: 'idn', label: 'Ada', meta: { model: model.id, crop: 128, guide_channels: 0, weights: 'random', source: 'test' } });
    expect(pack.tensors.map((t) => t.name)).toEqual(IDENTITY_TENSORS);
    const t = tensor(pack, IDENTITY_TENSORS[2]!);
    expect(t).toMatchObject({ dtype: 'f16', shape: [1, 2, 3] });
    expect([...float16BitsToFloat32(t.data as Uint16Array)]).toEqual(new Array(6).fill(0.5));
  });

  it('adds the guide source for a warp-guided model', async () => {
    const { pack } = await run(4);
    expect(pack.tensors.map((t) => t.name)).toEqual([...IDENTITY_TENSORS, GUIDE_FACE, GUIDE_LANDMARKS]);
    const lm = tensor(pack, GUIDE_LANDMARKS).data as Float32Array;
    expect(lm[0]).toBeCloseTo(0.5 * 40 - 10); // landmark 0 (40, 41) through toCrop
    expect(lm[1]).toBeCloseTo(0.5 * 41 - 20);
  });
});
