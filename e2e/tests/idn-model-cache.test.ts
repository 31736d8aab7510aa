// The neural model on the wire: the shipped model's ONNX files (about 50 MB)
// are fetched only once the neural engine is chosen, the page shows a
// progress bar while they download, and a reload reads them from Cache
// Storage instead of the network. The page's performance timeline carries
// what each load cost (guise:idn-download / guise:idn-load), which `pnpm
// bench` reports; here only their presence and byte counts are checked.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelLoad } from '@guise/client/engines/idn/modelFiles';
import { appErrors, launchParticipant, openApp, type Participant } from '../lib/browser.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera } from '../lib/y4m.ts';

const SHIPPED = path.join(repoRoot, 'models/idn/trained-128-guided');
const FILES = ['generator.onnx', 'identity.onnx', 'conditioner.onnx'];

interface Measure { name: string; detail: { bytes: number; total: number } }

/** The model-load measures on the page's timeline. */
const measures = async (p: Participant) => {
  const all = await p.page.evaluate(() => performance.getEntriesByType('measure')
    .filter((m) => m.name.startsWith('guise:idn-'))
    .map((m) => ({ name: m.name, detail: (m as PerformanceMeasure).detail as Measure['detail'], ms: m.duration })));
  for (const m of all) console.log(`${m.name}: ${(m.detail.bytes / 1e6).toFixed(1)} MB in ${m.ms.toFixed(0)} ms`);
  return all.map(({ name, detail }) => ({ name, detail }));
};

/** Waits until the page has marked the model's files in hand, as `name`. */
const waitForMeasure = (p: Participant, name: string) => p.page.waitForFunction(
  (name) => performance.getEntriesByName(name, 'measure').length > 0, name, { timeout: 120_000 });

/** Starts recording, in the page, every model-load state the app shows and whether the progress bar was ever in the DOM. */
const recordLoad = (p: Participant) => p.page.evaluate(() => {
  const w = window as unknown as { __loads: ModelLoad[]; __barSeen: boolean; __preparingSeen: boolean };
  w.__loads = [];
  w.__barSeen = false;
  w.__preparingSeen = false;
  window.__guise.faceChoice.subscribe((s) => { if (s.modelLoad) w.__loads.push({ ...s.modelLoad }); });
  const seen = () => {
    if (document.querySelector('[data-testid="model-progress"] progress')) w.__barSeen = true;
    if (/Preparing Astronaut…/.test(document.querySelector('[data-testid="identity-preparing"]')?.textContent ?? '')) w.__preparingSeen = true;
  };
  new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
});
const recorded = (p: Participant) => p.page.evaluate(() => {
  const w = window as unknown as { __loads: ModelLoad[]; __barSeen: boolean; __preparingSeen: boolean };
  return { loads: w.__loads, barSeen: w.__barSeen, preparingSeen: w.__preparingSeen };
});

describe('the shipped neural model over the wire', () => {
  let server: RunningServer;
  let alice: Participant;
  /** Requests for the model's ONNX files, by file name, from the page and its workers. */
  const onnxRequests: string[] = [];
  const manifest = JSON.parse(fs.readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number }> };
  const total = FILES.reduce((sum, f) => sum + manifest.files[f]!.bytes, 0);

  beforeAll(async () => {
    expect(fs.existsSync(path.join(SHIPPED, 'conditioner.onnx')), `${SHIPPED} is the shipped model`).toBe(true);
    server = await startServer(); // the model built into the client
    alice = await launchParticipant(fakeCamera('glasses'));
    alice.page.context().on('request', (r) => {
      const m = /\/models\/idn\/([^/?]+\.onnx)/.exec(new URL(r.url()).pathname);
      if (m) onnxRequests.push(m[1]!);
    });
  });
  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  it('fetches no model file until the neural engine is chosen, then downloads each once with progress shown and caches it', async () => {
    await openApp(alice.page, `${server.url}/?room=wire&name=Alice`);
    await alice.page.waitForSelector('[data-testid="identity-option"]:not([disabled])');
    await alice.page.waitForFunction(() => {
      let offered = false;
      window.__guise.faceChoice.subscribe((s) => { offered = s.engines.some((e) => e.kind === 'idn'); })();
      return offered;
    }, undefined, { timeout: 60_000 });
    expect(onnxRequests).toEqual([]); // the manifest probe only

    await recordLoad(alice);
    await alice.page.click('[data-testid="identity-picker"] details.options summary');
    await alice.page.selectOption('[data-testid="engine-select"]', 'idn');
    await alice.page.click('[data-identity-id="sample:astronaut"]');
    await waitForMeasure(alice, 'guise:idn-download');
    await waitForSwapping(alice.page, 'idn', 'sample:astronaut');

    expect(onnxRequests.sort()).toEqual([...FILES].sort());
    const { loads, barSeen, preparingSeen } = await recorded(alice);
    expect(barSeen).toBe(true);
    expect(preparingSeen).toBe(true); // the identity waits for the model, and says so
    expect(loads.length).toBeGreaterThan(2);
    expect(loads.every((l) => l.total === total && l.loaded <= l.total)).toBe(true);
    expect(loads.map((l) => l.loaded)).toEqual([...loads.map((l) => l.loaded)].sort((a, b) => a - b)); // only ever grows
    expect((await swapStateModelLoad(alice))).toBeNull(); // the bar is gone once the files are in hand
    expect(await measures(alice)).toEqual([{ name: 'guise:idn-download', detail: { bytes: total, total } }]);

    // Cache Storage holds each file once, keyed by its hash.
    const keys = await alice.page.evaluate(async () => (await (await caches.open('guise-idn-model')).keys()).map((r) => r.url));
    expect(keys.map((k) => new URL(k).pathname.split('/').pop()).sort()).toEqual([...FILES].sort());
    expect(keys.every((k) => /\?sha256=[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(appErrors(alice)).toEqual([]);
  });

  it('reads the files from Cache Storage after a reload: nothing is downloaded again', async () => {
    onnxRequests.length = 0;
    await openApp(alice.page, `${server.url}/?room=wire&name=Alice&engine=idn&identity=sample:astronaut`);
    await waitForMeasure(alice, 'guise:idn-load');
    await waitForSwapping(alice.page, 'idn', 'sample:astronaut');
    expect(onnxRequests).toEqual([]);
    expect(await measures(alice)).toEqual([{ name: 'guise:idn-load', detail: { bytes: total, total } }]);
    expect(appErrors(alice)).toEqual([]);
  });
});

const swapStateModelLoad = (p: Participant) => p.page.evaluate(() => {
  let v: ModelLoad | null = null;
  window.__guise.faceChoice.subscribe((s) => { v = s.modelLoad; })();
  return v;
});
