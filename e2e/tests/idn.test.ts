// The neural `idn` engine end to end in a call: onnxruntime-web in the swap
// worker, identity packs built by identity.onnx + conditioner.onnx, and the
// generator per frame. The server serves a random-weight export made at test
// time (IDN_MODEL_DIR): this checks mechanics, not looks. Random weights are
// never offered to a person; `&engine=idn` asks for them by name. The
// warp-guided variant (guide_channels 4: the source face warped onto the
// target's landmarks as extra input channels) runs a call of its own.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUIDE_FACE, GUIDE_LANDMARKS, guideSource } from '@guise/face/idn/guide';
import { parseIdnManifest } from '@guise/face/idn/manifest';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { packCacheKey } from '@guise/client/identity/cache';
import { decodePack, PACK_FORMAT_VERSION } from '@guise/face/pack';
import { packPhoto } from '@guise/scripts/identity/pack';
import { importInPage } from '../lib/pageImport.ts';
import { appErrors, decodedFrames, joinCall, launchParticipant, openApp, remoteTile, type Participant, waitForDecodedFrames, waitForRemoteVideo } from '../lib/browser.ts';
import { maxAbsDiff, randomIdnModel, readFixture } from '../lib/models.ts';
import { repoRoot } from '../lib/paths.ts';

/** Parity bound between torch and each onnxruntime, on outputs of order 1. */
const PARITY = 1e-4;
import { startServer, type RunningServer } from '../lib/server.ts';
import { swapState, waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera } from '../lib/y4m.ts';

/** Counts the app has kept since the page loaded. */
const cacheHits = (p: Participant) => p.page.evaluate(() => window.__guise.faceChoice.cacheHits);

/** The identity packs the app cached in IndexedDB, by key (base64 bytes). */
const cachedPacks = (p: Participant) => p.page.evaluate(() => new Promise<Record<string, string>>((resolve, reject) => {
  const open = indexedDB.open('guise');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const store = open.result.transaction('identity-packs').objectStore('identity-packs');
    const keys = store.getAllKeys();
    const values = store.getAll();
    values.onsuccess = () => resolve(Object.fromEntries(keys.result.map((k, i) => {
      const bytes = new Uint8Array(values.result[i] as ArrayBuffer);
      let s = '';
      for (let j = 0; j < bytes.length; j += 0x8000) s += String.fromCharCode(...bytes.subarray(j, j + 0x8000));
      return [String(k), btoa(s)];
    })));
  };
}));

describe('idn engine in a call', () => {
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const room = `idn-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer({ IDN_MODEL_DIR: randomIdnModel() });
    [alice, bob] = await Promise.all([launchParticipant(fakeCamera('glasses')), launchParticipant(fakeCamera('talking'))]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('computes what torch computes, on onnxruntime-node and onnxruntime-web alike', async () => {
    const dir = randomIdnModel();
    const { tensors } = readFixture(dir);
    const feedsFor = (names: string[]) => Object.fromEntries(names.map((n) => [n, tensors[n]!]));
    const plan = [
      { file: 'identity.onnx', inputs: ['face'], outputs: ['embedding', 'feature_map'] },
      { file: 'conditioner.onnx', inputs: ['embedding', 'feature_map'], outputs: IDENTITY_TENSORS },
      { file: 'generator.onnx', inputs: ['target', ...IDENTITY_TENSORS], outputs: ['swapped', 'mask'] },
    ];
    const diffs: Record<string, number> = {};
    for (const step of plan) {
      const session = await ortNode.InferenceSession.create(path.join(dir, step.file));
      const out = await session.run(Object.fromEntries(step.inputs.map((n) => [n, new ortNode.Tensor('float32', tensors[n]!.data, tensors[n]!.shape)])));
      for (const n of step.outputs) diffs[`node ${n}`] = maxAbsDiff(out[n]!.data as Float32Array, tensors[n]!.data);
    }
    // The same in the browser, on onnxruntime-web (wasm), from the app's origin.
    const ortDir = path.join(repoRoot, 'client/node_modules/onnxruntime-web/dist');
    await bob.page.route('**/__e2e/ort.mjs', (r) => r.fulfill({ path: path.join(ortDir, 'ort.wasm.bundle.min.mjs'), headers: { 'Content-Type': 'text/javascript' } }));
    await openApp(bob.page, `${server.url}/?room=parity&name=Bob`);
    await importInPage(bob.page, '/__e2e/ort.mjs', '__e2eOrt');
    const web = await bob.page.evaluate(async ({ plan, feeds }) => {
      const ort = (window as unknown as { __e2eOrt: any }).__e2eOrt;
      ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
      const outputs: Record<string, number[]> = {};
      for (const step of plan) {
        const session = await ort.InferenceSession.create(`/models/idn/${step.file}`, { executionProviders: ['wasm'] });
        const out = await session.run(Object.fromEntries(step.inputs.map((n: string) => [n, new ort.Tensor('float32', Float32Array.from(feeds[n]!.data), feeds[n]!.shape)])));
        for (const n of step.outputs) outputs[n] = Array.from(out[n].data as Float32Array);
        await session.release();
      }
      return outputs;
    }, { plan, feeds: Object.fromEntries(Object.entries(feedsFor(['face', 'target', 'embedding', 'feature_map', ...IDENTITY_TENSORS])).map(([n, t]) => [n, { shape: t.shape, data: Array.from(t.data) }])) });
    for (const [n, data] of Object.entries(web)) diffs[`web ${n}`] = maxAbsDiff(data, tensors[n]!.data);
    console.log('max |onnxruntime − torch|:', diffs);
    for (const [n, d] of Object.entries(diffs)) expect(d, n).toBeLessThan(PARITY);
  });

  it('is not offered when only random weights exist', async () => {
    await openApp(alice.page, `${server.url}/?room=${room}&name=Alice`);
    await alice.page.waitForSelector('[data-testid="identity-option"]:not([disabled])');
    await alice.page.waitForTimeout(500); // engine discovery has answered
    expect((await swapState(alice.page)).engines.map((e) => e.kind)).toEqual(['mesh']);
  });

  it('swaps with idn in a call: a pack is built in the worker and frames flow to the receiver', async () => {
    await openApp(alice.page, `${server.url}/?room=${room}&name=Alice&engine=idn&identity=sample:astronaut`);
    await waitForSwapping(alice.page, 'idn', 'sample:astronaut');
    await alice.page.click('[data-testid="join"]');
    await joinCall(bob.page, server.url, room, 'Bob');
    await waitForRemoteVideo(bob.page, 'Alice');
    await bob.page.waitForSelector(`${remoteTile('Alice')} [data-testid="synthetic-badge"]`);
    await waitForDecodedFrames(bob.page, 'Alice', await decodedFrames(bob.page, 'Alice'), 5);
    const view = await swapState(alice.page);
    console.log('idn stats at the sender:', view.stats);
    expect(view.error).toBeNull();
    // The pack went to the cache under the idn engine's key.
    const keys = await alice.page.evaluate(() => new Promise<string[]>((resolve) => {
      const open = indexedDB.open('guise');
      open.onsuccess = () => {
        const req = open.result.transaction('identity-packs').objectStore('identity-packs').getAllKeys();
        req.onsuccess = () => resolve(req.result.map(String));
      };
    }));
    expect(keys.some((k) => k.startsWith('idn:v1:'))).toBe(true);
  });

  it('switches identity and engine without stalling the frames', async () => {
    // Prepare a second identity first (the mesh one is the other engine's), then toggle rapidly.
    if (!(await alice.page.$('[data-testid="face-sheet"]'))) await alice.page.click('[data-testid="toggle-faces"]');
    // Each toggle waits for frames to flow again before the next one: a stall
    // fails by the test's timeout, not by a frame-time bound (how long frames
    // take is pnpm bench's to measure).
    const framesPerToggle = await alice.page.evaluate(async () => {
      const video = document.querySelector('[data-testid="tile"][data-local="true"] video') as HTMLVideoElement;
      let presented = 0;
      let waiter: { until: number; resolve: () => void } | undefined;
      let stop = false;
      const onFrame = () => {
        presented++;
        if (waiter && presented >= waiter.until) { waiter.resolve(); waiter = undefined; }
        if (!stop) video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      const fs = window.__guise.faceChoice;
      const counts: number[] = [];
      for (let i = 0; i < 6; i++) {
        const before = presented;
        await fs.select(i % 2 ? null : 'sample:astronaut');
        await new Promise<void>((resolve) => { waiter = { until: presented + 5, resolve }; });
        counts.push(presented - before);
      }
      stop = true;
      return counts;
    });
    console.log('frames presented across each toggle:', framesPerToggle);
    expect(framesPerToggle).toHaveLength(6);
    expect((await swapState(alice.page)).selected, 'the last toggle (off) took effect').toBeNull();
    expect(appErrors(alice)).toEqual([]);
  });

  it('takes a backend override from the settings and keeps swapping', async () => {
    await alice.page.evaluate(() => window.__guise.faceChoice.select('sample:astronaut'));
    await alice.page.click('[data-testid="face-sheet"] summary');
    await alice.page.selectOption('[data-testid="idn-backend-select"]', 'wasm');
    await alice.page.waitForTimeout(1500);
    await alice.page.waitForFunction(() => {
      let ok = false;
      window.__guise.faceChoice.subscribe((s) => { ok = s.idnBackend === 'wasm' && !!s.stats?.faceFound && s.stats.engineMs > 0; })();
      return ok;
    }, undefined, { timeout: 60_000 });
    expect((await swapState(alice.page)).error).toBeNull();
  });
});

describe('warp-guided idn engine (guide_channels 4) in a call', () => {
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const room = `idn-guided-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer({ IDN_MODEL_DIR: randomIdnModel(128, 4) });
    [alice, bob] = await Promise.all([launchParticipant(fakeCamera('glasses')), launchParticipant(fakeCamera('talking'))]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('swaps in a call: the pack carries the guide source, frames flow to the receiver with timings, no errors', async () => {
    await openApp(alice.page, `${server.url}/?room=${room}&name=Alice&engine=idn&identity=sample:astronaut`);
    await waitForSwapping(alice.page, 'idn', 'sample:astronaut');
    await alice.page.click('[data-testid="join"]');
    await joinCall(bob.page, server.url, room, 'Bob');
    await waitForRemoteVideo(bob.page, 'Alice');
    await bob.page.waitForSelector(`${remoteTile('Alice')} [data-testid="synthetic-badge"]`);
    await waitForDecodedFrames(bob.page, 'Alice', await decodedFrames(bob.page, 'Alice'), 5);
    const view = await swapState(alice.page);
    console.log('guided idn stats at the sender:', view.stats);
    expect(view.error).toBeNull();
    expect(view.stats?.faceFound).toBe(true);
    expect(view.stats!.engineMs).toBeGreaterThan(0); // crop + guide warp + generator
    expect(view.stats!.landmarksMs).toBeGreaterThan(0);

    // The pack built in the worker carries the guide's source: the aligned 224 crop and its landmarks.
    const packs = Object.entries(await cachedPacks(alice)).filter(([k]) => k.startsWith('idn:v1:'));
    expect(packs).toHaveLength(1);
    const pack = decodePack(Buffer.from(packs[0]![1], 'base64'));
    expect(pack.meta).toMatchObject({ crop: 128, guide_channels: 4 });
    expect(pack.tensors.map((t) => t.name)).toEqual([...IDENTITY_TENSORS, GUIDE_FACE, GUIDE_LANDMARKS]);
    const guide = guideSource(pack);
    const inCrop = guide.landmarks.filter((v) => v >= 0 && v < 224).length;
    expect(inCrop).toBeGreaterThan(0.95 * guide.landmarks.length); // the face is in its own crop
    expect(guide.image.data.some((v) => v > 0)).toBe(true);
    expect(appErrors(alice)).toEqual([]);
    expect(appErrors(bob)).toEqual([]);
  });

  it('refuses a cached pack another model made (the 3-channel one\'s, under this model\'s key): prepares it again and swaps', async () => {
    // Bob, in a page of his own: the CLI's pack for the 3-channel random model,
    // planted in his cache where this (guided) model's pack of the sample goes.
    const photo = path.join(repoRoot, 'client/public/samples/astronaut.jpg');
    const wrong = await packPhoto(photo, { model: randomIdnModel(), label: 'Astronaut' });
    const model = await parseIdnManifest(fs.readFileSync(path.join(randomIdnModel(128, 4), 'manifest.json')));
    const photoHash = createHash('sha256').update(fs.readFileSync(photo)).digest('hex');
    const key = packCacheKey({ engine: 'idn', formatVersion: PACK_FORMAT_VERSION, model: model.id, photoHash });
    await openApp(bob.page, `${server.url}/?room=${room}-lobby&name=Bob`); // the origin, choosing no identity yet
    await bob.page.evaluate(([k, bytes]) => new Promise<void>((resolve, reject) => {
      const open = indexedDB.open('guise');
      open.onupgradeneeded = () => open.result.createObjectStore('identity-packs');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction('identity-packs', 'readwrite');
        tx.objectStore('identity-packs').put(Uint8Array.from(bytes).buffer, k);
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    }), [key, Array.from(wrong)] as const);

    await openApp(bob.page, `${server.url}/?room=${room}-lobby&name=Bob&engine=idn&identity=sample:astronaut`);
    await waitForSwapping(bob.page, 'idn', 'sample:astronaut');
    expect(await cacheHits(bob)).toBe(0); // refused by the worker, not used
    expect((await swapState(bob.page)).error).toBeNull();
    // The rebuilt pack replaced it: this model's, with the guide source.
    const rebuilt = decodePack(Buffer.from((await cachedPacks(bob))[key]!, 'base64'));
    expect(rebuilt.meta).toMatchObject({ guide_channels: 4, model: model.id });
    expect(rebuilt.tensors.map((t) => t.name)).toContain(GUIDE_FACE);

    // The About box names the neural model by its manifest (random weights: no `about`).
    await bob.page.click('[data-testid="about-open"]');
    expect(await bob.page.locator('[data-testid="about-idn"]').innerText()).toMatch(/random weights \(testing only\)/);
    await bob.page.keyboard.press('Escape');
    expect(appErrors(bob)).toEqual([]);
  });
});
