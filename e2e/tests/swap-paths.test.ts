// The swap outside a call: the canvas fallback path (browsers without
// insertable streams), the identity-pack cache, and the stats the overlay shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, launchParticipant, openApp, type Participant } from '../lib/browser.ts';
import { captureFace, cosine, embed, installLandmarkerRoutes } from '../lib/faceEmbedding.ts';
import { showImage, y4mFramePng } from '../lib/photos.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';
import path from 'node:path';

const preview = 'video[data-testid="preview"]';

describe('swap pipeline paths', () => {
  let server: RunningServer;
  let p: Participant;
  const camera = fakeCamera('glasses');

  beforeAll(async () => {
    server = await startServer();
    p = await launchParticipant(camera);
    await installLandmarkerRoutes(p.page);
  });
  afterAll(async () => {
    await p?.close();
    await server?.stop();
  });

  async function embedOf(selector: string) {
    for (let i = 0; i < 20; i++) {
      const face = await captureFace(p.page, selector);
      if (face) return embed(face);
      await p.page.waitForTimeout(200);
    }
    throw new Error(`no face in ${selector}`);
  }

  const swapState = () => p.page.evaluate(() => {
    let v: { selected: string | null; stats: { fpsOut: number; faceFound: boolean; landmarksMs: number } | null } | undefined;
    window.__guise.faceChoice.subscribe((s) => { v = s; })();
    return { selected: v!.selected, stats: v!.stats, cacheHits: window.__guise.faceChoice.cacheHits };
  });

  it('swaps through the canvas fallback when insertable streams are not used', async () => {
    await openApp(p.page, `${server.url}/?room=paths&name=P&identity=sample:astronaut&pipeline=canvas`);
    await p.page.waitForFunction(() => {
      let ok = false;
      window.__guise.faceChoice.subscribe((s) => { ok = s.selected === 'sample:astronaut' && !!s.stats?.faceFound; })();
      return ok;
    }, undefined, { timeout: 60_000 });
    // The preview is the captured canvas, not a generator track.
    const kind = await p.page.$eval(preview, (v) => ((v as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0]!.constructor.name);
    expect(kind).toBe('CanvasCaptureMediaStreamTrack');

    const astronaut = await embedOf(await showImage(p.page, 'ref-y', path.join(repoRoot, 'client/public/samples/astronaut.jpg')));
    const own = await embedOf(await showImage(p.page, 'ref-own', y4mFramePng(camera.y4m, 60)));
    const seen = await embedOf(preview);
    expect(cosine(seen, astronaut)).toBeGreaterThan(cosine(seen, own) + 0.1);
    const { stats } = await swapState();
    expect(stats!.fpsOut, 'frames flow (their rate is pnpm bench\'s to measure)').toBeGreaterThan(0);
  });

  it('tracks the face with the GPU delegate and its own bundle when asked', async () => {
    const bundles: string[] = [];
    p.page.on('request', (r) => { if (r.url().endsWith('.task')) bundles.push(new URL(r.url()).pathname); });
    await openApp(p.page, `${server.url}/?room=paths&name=P&identity=sample:astronaut&landmarks=gpu`);
    await p.page.waitForFunction(() => {
      let ok = false;
      window.__guise.faceChoice.subscribe((s) => { ok = s.selected === 'sample:astronaut' && !!s.stats?.faceFound; })();
      return ok;
    }, undefined, { timeout: 60_000 });
    expect(bundles).toContain('/models/face_landmarker_gpu.task');
    expect(bundles).not.toContain('/models/face_landmarker.task');
  });

  it('caches identity packs in IndexedDB: a reload loads the astronaut instead of analysing it again', async () => {
    await openApp(p.page, `${server.url}/?room=paths&name=P&identity=sample:astronaut`);
    await p.page.waitForFunction(() => window.__guise.faceChoice.cacheHits >= 1, undefined, { timeout: 60_000 });
    const keys = await p.page.evaluate(() => new Promise<string[]>((resolve, reject) => {
      const open = indexedDB.open('guise');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const req = open.result.transaction('identity-packs').objectStore('identity-packs').getAllKeys();
        req.onsuccess = () => resolve(req.result.map(String));
      };
    }));
    expect(keys.some((k) => /^mesh:v1:[0-9a-f]{64}$/.test(k))).toBe(true);
  });

  it('reports per-stage timings while swapping', async () => {
    await p.page.waitForFunction(() => {
      let ok = false;
      window.__guise.faceChoice.subscribe((s) => { ok = !!s.stats?.faceFound; })();
      return ok;
    }, undefined, { timeout: 30_000 });
    const { stats } = await swapState();
    expect(stats!.fpsOut, 'frames flow (their rate is pnpm bench\'s to measure)').toBeGreaterThan(0);
    expect(stats!.landmarksMs).toBeGreaterThan(0);
    expect(appErrors(p)).toEqual([]);
    expect(p.warnings.filter((w) => /VideoFrame/.test(w))).toEqual([]);
  });
});
