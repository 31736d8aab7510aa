// A swapped participant seen from outside the call: the disclosure mark in
// the pixels (absent while the face is the person's own, present once it is
// swapped), a WHEP player in Chromium pulling the swapped video through the
// SFU (the judge sees the chosen identity in its 640×480 frames), and the
// output page (/output) in a browser with no camera permission, which shows
// the participant and comes back by itself after they leave and rejoin.
import { detectMark } from '@guise/face/disclosureMark';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, joinCall, launchParticipant, remoteTile, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { cosine, embedSeen, installLandmarkerRoutes } from '../lib/faceEmbedding.ts';
import { repoRoot } from '../lib/paths.ts';
import { showImage, y4mFramePng } from '../lib/photos.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { waitForSwapping } from '../lib/swapState.ts';
import { request, videoLuma, waitForFrames, whepPlay } from '../lib/webrtcHttp.ts';
import { fakeCamera } from '../lib/y4m.ts';

/** As in swap.test.ts: the received face must be this much closer (cosine) to the chosen identity than to the sender. */
const MARGIN = 0.1;
/** Frames looked at for the mark: enough for the first swapped frames to arrive, however slowly. */
const MAX_FRAMES_FOR_MARK = 150;

/**
 * Waits for the sender's full 640×480: a sender's encoder short of CPU (this
 * machine's two cores run three browsers and the server) scales down for a
 * while, as WebRTC does, and comes back.
 */
async function fullSize(page: Page, selector: string): Promise<void> {
  await page.waitForFunction((s) => {
    const v = document.querySelector<HTMLVideoElement>(s);
    return v?.videoWidth === 640 && v.videoHeight === 480;
  }, selector, { timeout: 120_000 });
}

/** Reads the mark in `count` consecutive decoded frames of a video element; how many carried it. */
async function marksIn(page: Page, selector: string, count: number): Promise<number> {
  let seen = 0;
  const contrasts: number[] = [];
  for (let i = 0; i < count; i++) {
    await waitForFrames(page, selector, 1);
    const { width, height, luma } = await videoLuma(page, selector);
    const reading = detectMark(luma, width, height);
    contrasts.push(Math.round(reading.contrast));
    if (reading.present) seen++;
  }
  console.log(`mark in ${seen} of ${count} frames of ${selector}; cell contrast ${contrasts.join(' ')}`);
  return seen;
}

/** Waits, frame by frame, until a frame carries the mark; false if none of MAX_FRAMES_FOR_MARK does. */
async function markArrives(page: Page, selector: string): Promise<boolean> {
  for (let i = 0; i < MAX_FRAMES_FOR_MARK; i++) {
    await waitForFrames(page, selector, 1);
    const { width, height, luma } = await videoLuma(page, selector);
    if (detectMark(luma, width, height).present) return true;
  }
  return false;
}

describe('a swapped participant outside the call: the mark, WHEP and the output page', () => {
  let server: RunningServer;
  let alice: Participant; // swaps her face
  let bob: Participant; // in the call
  let viewer: Participant; // no camera permission: WHEP player and output page
  const camera = fakeCamera('glasses');
  const room = `outside-${Date.now().toString(36)}`;
  const aliceAtBob = `${remoteTile('Alice')} video[data-testid="tile-video"]`;
  const refs: Record<'astronaut' | 'own', Float32Array> = {} as never;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob, viewer] = await Promise.all([
      launchParticipant(camera),
      launchParticipant(fakeCamera('talking')),
      launchParticipant(fakeCamera('talking'), { denyMedia: true }),
    ]);
    // The viewer's pages must never ask for a camera or microphone.
    await viewer.page.context().addInitScript(() => {
      const w = window as unknown as { __mediaRequests: number };
      w.__mediaRequests = 0;
      const md = navigator.mediaDevices;
      if (!md) return;
      const original = md.getUserMedia.bind(md);
      md.getUserMedia = (c) => { w.__mediaRequests++; return original(c); };
    });
    const judge = await bob.page.context().newPage();
    await installLandmarkerRoutes(judge);
    await installLandmarkerRoutes(viewer.page);
    await judge.goto(`${server.url}/healthz`);
    refs.astronaut = await embedSeen(judge, await showImage(judge, 'ref-astronaut', path.join(repoRoot, 'client/public/samples/astronaut.jpg')), 1);
    const own = [];
    for (const i of [0, 60, 120]) own.push(await embedSeen(judge, await showImage(judge, `ref-own-${i}`, y4mFramePng(camera.y4m, i)), 1));
    refs.own = own.reduce((a, b) => a.map((v, i) => v + b[i]!)).map((v) => v / own.length);
    await judge.close();
    expect(cosine(refs.astronaut, refs.own)).toBeLessThan(0.5);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), viewer?.close()]);
    await server?.stop();
  });

  it('the mark is absent while Alice shows her own face, and in the frames Bob receives once she swaps', async () => {
    await joinCall(alice.page, server.url, room, 'Alice');
    await joinCall(bob.page, server.url, room, 'Bob');
    expect(await waitForRemoteVideo(bob.page, 'Alice')).toEqual({ width: 640, height: 480 });
    expect(await marksIn(bob.page, aliceAtBob, 10)).toBe(0);

    await alice.page.click('[data-testid="toggle-faces"]');
    await alice.page.click('[data-identity-id="sample:astronaut"]');
    await waitForSwapping(alice.page, 'mesh', 'sample:astronaut');
    expect(await markArrives(bob.page, aliceAtBob)).toBe(true);
    // Once there, it stays: every frame of the swapped video carries it.
    expect(await marksIn(bob.page, aliceAtBob, 10)).toBe(10);
  });

  it('a Chromium WHEP player pulls Alice\'s swapped video: 640×480 frames showing the chosen identity, with the mark', async () => {
    const page = await viewer.page.context().newPage();
    await installLandmarkerRoutes(page);
    await page.goto(`${server.url}/healthz`);
    expect((await whepPlay(page, `${server.url}/whep/${room}/Nobody`)).status).toBe(404);
    const posted = performance.now();
    const created = await whepPlay(page, `${server.url}/whep/${room}/Alice`);
    const answered = performance.now();
    expect(created.status).toBe(201);
    expect(created.location).toMatch(new RegExp(`^/whep/${room}/Alice/[0-9a-f-]{36}$`));
    const video = '[data-testid="whep-video"]';
    await waitForFrames(page, video, 0);
    console.log(`WHEP: offer to 201 ${Math.round(answered - posted)} ms (in-page, incl. createOffer), 201 to first decoded frame ${Math.round(performance.now() - answered)} ms`);
    await waitForFrames(page, video, 30);
    await fullSize(page, video);
    const seen = await embedSeen(page, video, 5);
    const s = { astronaut: cosine(seen, refs.astronaut), own: cosine(seen, refs.own) };
    console.log('WHEP player sees:', s);
    expect(s.astronaut).toBeGreaterThan(s.own + MARGIN);
    expect(await marksIn(page, video, 5)).toBe(5);
    // The player shows in the call as a viewer while it watches, and goes with its session.
    await bob.page.waitForSelector('[data-testid="tile"][data-display-name^="Alice viewer"]');
    expect((await request(page, `${server.url}${created.location}`, 'DELETE')).status).toBe(200);
    await bob.page.waitForSelector('[data-testid="tile"][data-display-name^="Alice viewer"]', { state: 'detached' });
    await page.close();
  });

  it('the output page, with no camera permission, shows Alice swapped and comes back after she leaves and rejoins', async () => {
    const page = viewer.page;
    const video = '[data-testid="output-video"]';
    // The link as a person gets it: Copy output link on Alice's tile in the call.
    await bob.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const copy = `${remoteTile('Alice')} [data-testid="copy-output-link"]`;
    await bob.page.click(copy);
    await bob.page.waitForFunction((sel) => /^Copied/.test(document.querySelector(sel)?.textContent ?? ''), copy);
    const link = await bob.page.evaluate(() => navigator.clipboard.readText());
    expect(link).toBe(`${server.url}/output?room=${room}&peer=Alice`);
    await page.goto(link, { waitUntil: 'commit' });
    await page.waitForSelector('body[data-state="live"]', { timeout: 60_000 });
    await waitForFrames(page, video, 30);
    await fullSize(page, video);
    const seen = await embedSeen(page, video, 3);
    expect(cosine(seen, refs.astronaut)).toBeGreaterThan(cosine(seen, refs.own) + MARGIN);
    expect(await marksIn(page, video, 3)).toBe(3);

    await alice.page.click('[data-testid="leave"]');
    await alice.page.waitForSelector('[data-testid="call"]', { state: 'detached' });
    await page.waitForSelector('body[data-state="waiting"]', { timeout: 60_000 });
    await alice.page.goto(`${server.url}/?room=${room}&name=Alice&autojoin=1&identity=sample:astronaut`, { waitUntil: 'commit' });
    await page.waitForSelector('body[data-state="live"]', { timeout: 120_000 });
    await waitForFrames(page, video, 30);
    expect(await markArrives(page, video)).toBe(true);

    // Nothing on the viewer's side asked for a camera or microphone, and none was granted.
    expect(await page.evaluate(() => (window as unknown as { __mediaRequests: number }).__mediaRequests)).toBe(0);
    expect(await page.evaluate(async () => (await navigator.permissions.query({ name: 'camera' as PermissionName })).state)).not.toBe('granted');
  });

  it('the output page comes back by itself after the server restarts', async () => {
    const page = viewer.page;
    const video = '[data-testid="output-video"]';
    await server.stop();
    await page.waitForSelector('body[data-state="waiting"]', { timeout: 60_000 });
    server = await startServer({ PORT: new URL(server.url).port });
    // Alice's app offers Rejoin after a server shutdown; the output page needs nobody.
    await alice.page.click('[data-testid="rejoin"]', { timeout: 60_000 });
    await bob.page.click('[data-testid="rejoin"]', { timeout: 60_000 });
    await page.waitForSelector('body[data-state="live"]', { timeout: 120_000 });
    await waitForFrames(page, video, 30);
    expect(await markArrives(page, video)).toBe(true);
    await waitForRemoteVideo(bob.page, 'Alice');
  });

  it('turning the mark off takes a confirmed choice, is remembered, and leaves the badge', async () => {
    // Declining the question keeps the mark.
    alice.page.once('dialog', (d) => void d.dismiss());
    if (!(await alice.page.$('[data-testid="face-sheet"]'))) await alice.page.click('[data-testid="toggle-faces"]');
    await alice.page.click('summary:has-text("Swap options")');
    await alice.page.click('[data-testid="disclosure-mark"]');
    expect(await alice.page.isChecked('[data-testid="disclosure-mark"]')).toBe(true);
    // Accepting it turns the mark off: Bob's frames lose it, his badge stays.
    alice.page.once('dialog', (d) => void d.accept());
    await alice.page.click('[data-testid="disclosure-mark"]');
    await alice.page.waitForSelector('[data-testid="mark-off-note"]');
    await waitForFrames(bob.page, aliceAtBob, 30);
    expect(await marksIn(bob.page, aliceAtBob, 5)).toBe(0);
    expect(await bob.page.$(`${remoteTile('Alice')} [data-testid="synthetic-badge"]`)).not.toBeNull();
    // Remembered on this device: a reload starts with it off.
    expect(await alice.page.evaluate(() => localStorage.getItem('guise.disclosureMark'))).toBe('off');
    await alice.page.reload({ waitUntil: 'commit' });
    await alice.page.waitForFunction(() => !!(window as { __guise?: unknown }).__guise);
    expect(await alice.page.evaluate(() => {
      let on: boolean | undefined;
      window.__guise.faceChoice.subscribe((s) => { on = s.options.disclosureMark; })();
      return on;
    })).toBe(false);
  });

  it('left no page errors behind', () => {
    // While the server was down its address refused connections; the output page's waits for Alice were 404s.
    const expected = (e: string) => /net::ERR_CONNECTION_REFUSED|status of 404/.test(e);
    expect(appErrors(alice).filter((e) => !expected(e))).toEqual([]);
    expect(appErrors(bob).filter((e) => !expected(e))).toEqual([]);
    expect(appErrors(viewer).filter((e) => !expected(e))).toEqual([]);
  });
});
