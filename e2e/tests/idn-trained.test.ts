// The trained MobileFaceSwap model shipped in models/idn/ (built into the
// client), end to end: it is offered without any test switch, a call runs on
// it, the receiver's decoded video shows the chosen identity (judged by a
// face-recognition model neither the app nor training uses), and the About
// box states the weights' terms.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, joinCall, launchParticipant, openApp, remoteTile, type Participant, waitForRemoteVideo } from '../lib/browser.ts';
import { cosine, embedSeen, installLandmarkerRoutes } from '../lib/faceEmbedding.ts';
import { kitPhoto, showImage, y4mFramePng } from '../lib/photos.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { swapState, waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera } from '../lib/y4m.ts';

const SHIPPED = path.join(repoRoot, 'models/idn/trained-128-guided');
const X_PHOTO = 'deepface-pairs/img5.jpg';
/**
 * How much closer (judge cosine) the received face must be to X than to the
 * sender's own face. Measured with the shipped model on this camera video:
 * 0.26–0.29 to X against 0.16–0.17 to the sender (margins 0.09–0.12); the
 * mesh engine's margin on the same video is 0.26–0.35 (swap.test.ts). The
 * trained model transfers less identity than mesh (models/idn/MODEL_CARD.md),
 * so its bound is lower: it still fails if the swap does nothing.
 */
const MARGIN = 0.05;

describe('the shipped trained IDN in a call', () => {
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const camera = fakeCamera('glasses');
  const room = `idn-trained-${Date.now().toString(36)}`;
  const aliceTile = `${remoteTile('Alice')} video[data-testid="tile-video"]`;
  const refs: Record<'x' | 'own', Float32Array> = {} as never;

  beforeAll(async () => {
    expect(fs.existsSync(path.join(SHIPPED, 'generator.onnx')), `${SHIPPED} is the shipped model`).toBe(true);
    server = await startServer(); // no IDN_MODEL_DIR: the model built into the client
    [alice, bob] = await Promise.all([launchParticipant(camera), launchParticipant(fakeCamera('talking'))]);
    await installLandmarkerRoutes(bob.page);
    const judge = await bob.page.context().newPage();
    await installLandmarkerRoutes(judge);
    await judge.goto(`${server.url}/healthz`);
    refs.x = await embedSeen(judge, await showImage(judge, 'ref-x', kitPhoto(X_PHOTO)), 1);
    const own = [];
    for (const i of [0, 60, 120]) own.push(await embedSeen(judge, await showImage(judge, `ref-own-${i}`, y4mFramePng(camera.y4m, i)), 1));
    await judge.close();
    refs.own = own.reduce((a, b) => a.map((v, i) => v + b[i]!)).map((v) => v / own.length);
    expect(cosine(refs.x, refs.own)).toBeLessThan(0.5); // the judge tells them apart
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('is offered as an engine with no test switch, and the About box gives its terms', async () => {
    await openApp(alice.page, `${server.url}/?room=${room}&name=Alice`);
    await alice.page.waitForFunction(() => {
      let kinds: string[] = [];
      window.__guise.faceChoice.subscribe((s) => { kinds = s.engines.map((e) => e.kind); })();
      return kinds.includes('idn');
    }, undefined, { timeout: 60_000 });
    await alice.page.click('[data-testid="about-open"]');
    await alice.page.waitForFunction(() => /non-commercial/i.test(document.querySelector('dialog[open]')?.textContent ?? ''));
    await alice.page.keyboard.press('Escape');
  });

  it('sends the chosen identity through the trained model: the receiver sees X, not the sender', async () => {
    await openApp(alice.page, `${server.url}/?room=${room}&name=Alice&engine=idn`);
    await alice.page.waitForSelector('[data-testid="identity-option"]:not([disabled])');
    await alice.page.check('[data-testid="consent"]'); // one's own photo needs consent
    await alice.page.setInputFiles('[data-testid="photo-input"]', kitPhoto(X_PHOTO));
    await alice.page.waitForSelector('[data-identity-id^="upload:"][aria-checked="true"]', { timeout: 60_000 })
      ;
    await waitForSwapping(alice.page, 'idn');
    await alice.page.click('[data-testid="join"]');
    await joinCall(bob.page, server.url, room, 'Bob');
    await waitForRemoteVideo(bob.page, 'Alice');
    await bob.page.waitForSelector(`${remoteTile('Alice')} [data-testid="synthetic-badge"]`);
    const seen = await embedSeen(bob.page, aliceTile, 12); // over ~4 s of the video: head turns weaken single frames
    const x = cosine(seen, refs.x), own = cosine(seen, refs.own);
    console.log(`receiver sees, idn with X: cos to X ${x.toFixed(3)}, to the sender ${own.toFixed(3)}`, (await swapState(alice.page)).stats);
    expect((await swapState(alice.page)).engine).toBe('idn');
    expect(x).toBeGreaterThan(own + MARGIN);
    expect(appErrors(alice)).toEqual([]);
    expect(appErrors(bob)).toEqual([]);
  });
});
