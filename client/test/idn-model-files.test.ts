// How the neural model's files are cached and checked (modelFiles.ts): the
// Cache Storage key carries each file's SHA-256, so a new export misses the
// old entries and they are dropped; bytes that are not the file the manifest
// describes are refused; progress counts bytes over all the files.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseIdnManifest } from '@guise/face/idn/manifest';
import { cacheKey, fileProblem, hex, LoadProgress, modelFiles, staleKeys, type ModelFile } from '../src/engines/idn/modelFiles.ts';

const BASE = 'https://guise.example/models/idn/';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const model = (files: Record<string, { bytes?: number; sha256?: string }>) => parseIdnManifest(new TextEncoder().encode(JSON.stringify({
  crop: 128, weights: 'trained', files: Object.fromEntries(Object.entries(files).map(([name, f]) => [name, { inputs: [], outputs: [], ...f }])),
})));

describe('modelFiles', () => {
  it('reads each file\'s size and hash from the manifest, and leaves them out where an older export recorded none', async () => {
    const m = await model({ 'generator.onnx': { bytes: 3, sha256: sha('gen') }, 'identity.onnx': {} });
    expect(modelFiles(m, BASE, ['generator.onnx', 'identity.onnx', 'conditioner.onnx'])).toEqual([
      { name: 'generator.onnx', url: `${BASE}generator.onnx`, bytes: 3, sha256: sha('gen') },
      { name: 'identity.onnx', url: `${BASE}identity.onnx`, bytes: undefined, sha256: undefined },
      { name: 'conditioner.onnx', url: `${BASE}conditioner.onnx`, bytes: undefined, sha256: undefined },
    ]);
  });

  it('refuses a manifest whose hash is not SHA-256 hex', async () => {
    await expect(model({ 'generator.onnx': { sha256: 'not-a-hash' } })).rejects.toThrow(/sha256/);
  });
});

describe('cacheKey and staleKeys', () => {
  const file = (name: string, content: string): ModelFile => ({ name, url: `${BASE}${name}`, bytes: content.length, sha256: sha(content) });

  it('keys a file by its URL and hash: the same file of a new export is another key', () => {
    const v1 = file('conditioner.onnx', 'weights v1');
    const v2 = file('conditioner.onnx', 'weights v2');
    expect(cacheKey(v1)).toBe(`${BASE}conditioner.onnx?sha256=${v1.sha256}`);
    expect(cacheKey(v2)).not.toBe(cacheKey(v1));
    expect(cacheKey(file('conditioner.onnx', 'weights v1'))).toBe(cacheKey(v1));
  });

  it('does not cache a file without a recorded hash (its old and new bytes would share a key)', () => {
    expect(cacheKey({ name: 'generator.onnx', url: `${BASE}generator.onnx`, bytes: 10 })).toBeNull();
  });

  it('names the entries of an older model as stale and keeps the current ones', () => {
    const old = [file('generator.onnx', 'g1'), file('conditioner.onnx', 'c1')];
    const now = [file('generator.onnx', 'g1'), file('conditioner.onnx', 'c2')];
    const cached = old.map((f) => cacheKey(f)!);
    expect(staleKeys(cached, now)).toEqual([cacheKey(old[1]!)]);
    expect(staleKeys([...cached, cacheKey(now[1]!)!], now)).toEqual([cacheKey(old[1]!)]);
    expect(staleKeys(now.map((f) => cacheKey(f)!), now)).toEqual([]);
  });
});

describe('fileProblem', () => {
  const content = 'the conditioner weights';
  const file: ModelFile = { name: 'conditioner.onnx', url: `${BASE}conditioner.onnx`, bytes: content.length, sha256: sha(content) };

  it('accepts the bytes the manifest describes', async () => {
    const bytes = new TextEncoder().encode(content);
    expect(fileProblem(file, bytes.byteLength, hex(await crypto.subtle.digest('SHA-256', bytes)))).toBeNull();
  });

  it('refuses a truncated file by its size, before any hashing', () => {
    expect(fileProblem(file, content.length - 1)).toMatch(/22 bytes, not the 23/);
  });

  it('refuses bytes of the right size but another hash', async () => {
    const swapped = new TextEncoder().encode(content.replace('the', 'THE'));
    expect(fileProblem(file, swapped.byteLength, hex(await crypto.subtle.digest('SHA-256', swapped)))).toMatch(/SHA-256/);
  });

  it('checks only what the manifest records', () => {
    expect(fileProblem({ name: 'g.onnx', url: `${BASE}g.onnx` }, 5, sha('x'))).toBeNull();
  });
});

describe('LoadProgress', () => {
  const files: ModelFile[] = [
    { name: 'generator.onnx', url: `${BASE}generator.onnx`, bytes: 400 },
    { name: 'conditioner.onnx', url: `${BASE}conditioner.onnx`, bytes: 9600 },
  ];

  it('counts bytes in hand over all the files, and apart those that came over the network', () => {
    const p = new LoadProgress(files);
    expect(p.state()).toEqual({ loaded: 0, total: 10_000, downloaded: 0, doneMs: null });
    p.add('generator.onnx', 400, false);
    p.add('conditioner.onnx', 5000, true);
    expect(p.state()).toEqual({ loaded: 5400, total: 10_000, downloaded: 5000, doneMs: null });
    p.add('conditioner.onnx', 4600, true);
    expect(p.state(12)).toEqual({ loaded: 10_000, total: 10_000, downloaded: 9600, doneMs: 12 });
  });

  it('sizes a file the manifest gives no size for from its response, and never reports more in hand than in all', () => {
    const p = new LoadProgress([{ name: 'identity.onnx', url: `${BASE}identity.onnx` }]);
    p.sizeKnown('identity.onnx', 1000);
    p.add('identity.onnx', 600, true);
    expect(p.state()).toMatchObject({ loaded: 600, total: 1000 });
    p.add('identity.onnx', 600, true); // more than its Content-Length said
    expect(p.state()).toMatchObject({ loaded: 1200, total: 1200 });
  });

  it('is due for a report about once per percent, not once per chunk, and always at the start and the end', () => {
    const p = new LoadProgress(files);
    let reports = 0;
    if (p.reportDue()) reports++;
    for (let i = 0; i < 1000; i++) {
      p.add(i < 40 ? 'generator.onnx' : 'conditioner.onnx', 10, true); // 1000 chunks of 10 bytes
      if (p.reportDue()) reports++;
    }
    expect(p.state().loaded).toBe(10_000);
    expect(reports).toBe(101); // the start, then each 100 bytes (1 %), the last at the end
    expect(p.reportDue()).toBe(false); // nothing new since
  });
});
