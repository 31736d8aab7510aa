// Identity packs are per neural model: the manifest (zod-checked, with the
// About box's provenance), the model id the cache key and packs carry, and
// the worker's check that a cached pack fits the loaded model.
import { describe, expect, it } from 'vitest';
import { GUIDE_FACE, guideTensors } from '@guise/face/idn/guide';
import { describeWeights, idnModelId, parseIdnManifest, type IdnModel } from '@guise/face/idn/manifest';
import { idnPackMeta, idnPackProblem } from '@guise/face/idn/packFit';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { packCacheKey } from '../src/identity/cache.ts';
import { float32ToFloat16Bits, type IdentityPack, type PackTensor } from '@guise/face/pack';

const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v, null, 2));
const conditionerOutputs = IDENTITY_TENSORS.map((name) => ({ name, shape: [2, 3] }));
const manifest = (extra: Record<string, unknown> = {}) => ({
  crop: 128, guide_channels: 0, input_channels: 3, weights: 'random', seed: 0,
  files: { 'conditioner.onnx': { inputs: [], outputs: conditionerOutputs, bytes: 10, sha256: 'a'.repeat(64) } },
  ...extra,
});
const about = { title: 'Guise IDN 128', data: 'CelebA subset', terms: 'Trained on a subset of CelebA: non-commercial research use only; the weights inherit these terms.', card: 'models/train/MODEL_CARD.md' };

const identityTensors = (shape = [2, 3]): PackTensor[] =>
  IDENTITY_TENSORS.map((name) => ({ name, dtype: 'f16', shape, data: float32ToFloat16Bits(new Float32Array(shape[0]! * shape[1]!)) }));
const guide = () => guideTensors(new Uint8ClampedArray(224 * 224 * 4), new Float32Array(478 * 3).fill(100), [1, 0, 0, 0, 1, 0]);
const pack = (model: IdnModel, tensors: PackTensor[], meta: Record<string, unknown> = idnPackMeta(model)): IdentityPack =>
  ({ engine: 'idn', label: 'Ada', createdAt: '2026-11-28T00:00:00Z', meta, tensors });

describe('parseIdnManifest', () => {
  it('reads the exporter\'s manifest, with guide_channels defaulting to 0, and names the model by its bytes\' hash', async () => {
    const raw = manifest();
    delete (raw as Record<string, unknown>).guide_channels;
    const model = await parseIdnManifest(bytes(raw));
    expect(model.manifest).toMatchObject({ crop: 128, guide_channels: 0, weights: 'random' });
    expect(model.manifest.about).toBeUndefined();
    expect(model.id).toMatch(/^[0-9a-f]{16}$/);
    expect(model.id).toBe(await idnModelId(bytes(raw)));
  });

  it('gives another model another id: other weights (file hashes), another guide, even other whitespace', async () => {
    const ids = await Promise.all([
      manifest(),
      manifest({ files: { 'conditioner.onnx': { outputs: conditionerOutputs, bytes: 10, sha256: 'b'.repeat(64) } } }),
      manifest({ guide_channels: 4, input_channels: 7 }),
    ].map(async (m) => (await parseIdnManifest(bytes(m))).id));
    ids.push((await parseIdnManifest(bytes(JSON.stringify(manifest())))).id);
    expect(new Set(ids).size).toBe(4);
  });

  it('keeps the about object exactly as given', async () => {
    const model = await parseIdnManifest(bytes(manifest({ about })));
    expect(model.manifest.about).toEqual(about);
  });

  it.each([
    ['a missing crop', { crop: undefined }],
    ['a fractional crop', { crop: 12.5 }],
    ['no weights', { weights: undefined }],
    ['an about without terms', { about: { ...about, terms: undefined } }],
    ['an empty about title', { about: { ...about, title: '' } }],
    ['an overlong about string', { about: { ...about, terms: 'x'.repeat(2001) } }],
    ['about as a string', { about: 'CelebA' }],
    ['a non-string title', { about: { ...about, title: 42 } }],
  ])('refuses a manifest with %s', async (_, extra) => {
    await expect(parseIdnManifest(bytes(manifest(extra)))).rejects.toThrow(/manifest.json is invalid/);
  });

  it('refuses what is not JSON, and oversized input', async () => {
    await expect(parseIdnManifest(bytes('{"crop": 128,'))).rejects.toThrow(/not valid UTF-8 JSON/);
    await expect(parseIdnManifest(new Uint8Array([0x7b, 0xff, 0x7d]))).rejects.toThrow(/not valid UTF-8 JSON/);
    await expect(parseIdnManifest(new Uint8Array(300 * 1024).fill(0x20))).rejects.toThrow(/over/);
  });

  it('describes weights without an about by the manifest\'s weights field', () => {
    expect(describeWeights('random')).toBe('random weights (testing only)');
    expect(describeWeights('trained')).toMatch(/^trained weights/);
  });
});

describe('packCacheKey', () => {
  const photoHash = 'ab'.repeat(32);

  it('keys mesh packs by engine, format and photo, and idn packs by the model too', () => {
    expect(packCacheKey({ engine: 'mesh', formatVersion: 1, photoHash })).toBe(`mesh:v1:${photoHash}`);
    expect(packCacheKey({ engine: 'idn', formatVersion: 1, model: '0123456789abcdef', photoHash })).toBe(`idn:v1:0123456789abcdef:${photoHash}`);
  });

  it('gives the same photo another key under another model', async () => {
    const a = await parseIdnManifest(bytes(manifest()));
    const b = await parseIdnManifest(bytes(manifest({ guide_channels: 4, input_channels: 7 })));
    expect(packCacheKey({ engine: 'idn', formatVersion: 1, model: a.id, photoHash }))
      .not.toBe(packCacheKey({ engine: 'idn', formatVersion: 1, model: b.id, photoHash }));
  });

  it('refuses parts that could run into each other', () => {
    expect(() => packCacheKey({ engine: 'idn:x', formatVersion: 1, photoHash })).toThrow(/engine/);
    expect(() => packCacheKey({ engine: 'idn', formatVersion: 1, model: 'a:b', photoHash })).toThrow(/model/);
  });
});

describe('idnPackProblem', () => {
  it('accepts a pack the model made: 3-channel, and warp-guided with its guide source', async () => {
    const plain = await parseIdnManifest(bytes(manifest()));
    const guided = await parseIdnManifest(bytes(manifest({ guide_channels: 4, input_channels: 7 })));
    expect(idnPackProblem(pack(plain, identityTensors()), plain)).toBeNull();
    expect(idnPackProblem(pack(guided, [...identityTensors(), ...guide()]), guided)).toBeNull();
    expect(idnPackMeta(guided)).toEqual({ crop: 128, weights: 'random', guide_channels: 4, model: guided.id });
  });

  it('refuses a pack made by another model, even one with the same tensors', async () => {
    const plain = await parseIdnManifest(bytes(manifest()));
    const guided = await parseIdnManifest(bytes(manifest({ guide_channels: 4, input_channels: 7 })));
    const retrained = await parseIdnManifest(bytes(manifest({ files: { 'conditioner.onnx': { outputs: conditionerOutputs, sha256: 'c'.repeat(64) } } })));
    // A 3-channel pack under the guided model: names the other model.
    expect(idnPackProblem(pack(plain, identityTensors()), guided)).toMatch(/another neural model/);
    expect(idnPackProblem(pack(guided, [...identityTensors(), ...guide()]), plain)).toMatch(/another neural model/);
    expect(idnPackProblem(pack(plain, identityTensors()), retrained)).toMatch(/another neural model/);
  });

  it('refuses packs that don\'t say which model made them (older packs, other engines)', async () => {
    const plain = await parseIdnManifest(bytes(manifest()));
    expect(idnPackProblem(pack(plain, identityTensors(), { crop: 128, weights: 'random' }), plain)).toMatch(/does not say which/);
    expect(idnPackProblem({ ...pack(plain, identityTensors()), engine: 'mesh' }, plain)).toMatch(/mesh engine/);
  });

  it('checks the tensors against the manifest even when the model id matches', async () => {
    const plain = await parseIdnManifest(bytes(manifest()));
    const guided = await parseIdnManifest(bytes(manifest({ guide_channels: 4, input_channels: 7 })));
    expect(idnPackProblem(pack(plain, identityTensors([3, 2])), plain)).toMatch(/shape \[3, 2\].*takes \[2, 3\]/);
    expect(idnPackProblem(pack(plain, identityTensors().slice(1)), plain)).toMatch(new RegExp(`no tensor "${IDENTITY_TENSORS[0]}"`));
    expect(idnPackProblem(pack(guided, identityTensors()), guided)).toMatch(new RegExp(`no ${GUIDE_FACE}`));
    const badGuide = guide();
    badGuide[1] = { ...badGuide[1]!, data: new Float32Array(478 * 2).fill(Number.NaN) };
    expect(idnPackProblem(pack(guided, [...identityTensors(), ...badGuide]), guided)).toMatch(/non-finite/);
  });
});
