// Two real browsers in one room on the real server: each sees and hears the
// other, the pictures are the other's camera, and leave/rejoin work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, decodedFrames, joinCall, launchParticipant, remoteAudioLevel, remoteThumbnail, remoteTile, waitForDecodedFrames, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { bestCorrelation, meanAbsDiff } from '../lib/thumbnail.ts';
import { fakeCamera, y4mThumbnails } from '../lib/y4m.ts';

/** Opens the About box, checks what it says of the disclosure and the models' terms, and closes it with Escape. */
async function checkAbout(page: Participant['page']) {
  const dialog = page.locator('[data-testid="about-dialog"]');
  await page.click('[data-testid="about-open"]');
  await dialog.waitFor({ state: 'visible' });
  expect(await dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
  const text = await dialog.innerText();
  expect(text).toMatch(/synthetic video/);
  expect(await page.locator('[data-testid="about-landmarker"]').innerText()).toMatch(/Apache-2\.0/);
  expect(text).toMatch(/FaceLandmarker/);
  expect(await page.locator('[data-testid="about-samples"]').innerText()).toMatch(/public domain/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
}

describe('two-browser call', () => {
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const cameras = { alice: fakeCamera('glasses'), bob: fakeCamera('talking') };
  const frames = { alice: y4mThumbnails(cameras.alice.y4m), bob: y4mThumbnails(cameras.bob.y4m) };
  const room = `e2e-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([launchParticipant(cameras.alice), launchParticipant(cameras.bob)]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('each side sees the other\'s camera, live, at full size', async () => {
    await joinCall(alice.page, server.url, room, 'Alice');
    await joinCall(bob.page, server.url, room, 'Bob');

    for (const [viewer, sender, senderName, own] of [
      [alice, 'bob', 'Bob', 'alice'],
      [bob, 'alice', 'Alice', 'bob'],
    ] as const) {
      const size = await waitForRemoteVideo(viewer.page, senderName);
      expect(size).toEqual({ width: 640, height: 480 });

      // Frames flow and the picture changes over time (how fast is pnpm bench's to say).
      const shots = [await remoteThumbnail(viewer.page, senderName)];
      for (let i = 0; i < 3; i++) {
        await waitForDecodedFrames(viewer.page, senderName, await decodedFrames(viewer.page, senderName), 15);
        shots.push(await remoteThumbnail(viewer.page, senderName));
      }
      expect(Math.max(...shots.slice(1).map((s) => meanAbsDiff(shots[0]!, s))), 'picture change').toBeGreaterThan(0.5);

      // And it is the sender's camera: each shot matches one of the sender's
      // source frames closely, and clearly better than any frame of the other video.
      for (const shot of shots) {
        const fromSender = bestCorrelation(shot, frames[sender]);
        const fromOther = bestCorrelation(shot, frames[own]);
        expect(fromSender, 'correlation with the sender\'s source').toBeGreaterThan(0.95);
        expect(fromSender - fromOther, 'margin over the unrelated video').toBeGreaterThan(0.3);
      }
    }
  });

  it('each side hears the other', async () => {
    for (const [viewer, senderName] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
      const audio = await remoteAudioLevel(viewer.page, senderName);
      expect(audio.readyState).toBe('live');
      expect(audio.rms).toBeGreaterThan(0.01); // the fake microphone beeps
    }
  });

  it('shows the other side muting the mic and turning the camera off, and back', async () => {
    const bobsTileAtAlice = remoteTile('Bob');
    await bob.page.click('[data-testid="toggle-mic"]');
    await alice.page.waitForSelector(`${bobsTileAtAlice} [data-testid="mic-off"]`);
    await bob.page.click('[data-testid="toggle-camera"]');
    await alice.page.waitForSelector(`${bobsTileAtAlice} [data-testid="camera-off"]`);
    await bob.page.click('[data-testid="toggle-mic"]');
    await bob.page.click('[data-testid="toggle-camera"]');
    await alice.page.waitForSelector(`${bobsTileAtAlice} [data-testid="mic-off"]`, { state: 'detached' });
    await alice.page.waitForSelector(`${bobsTileAtAlice} [data-testid="camera-off"]`, { state: 'detached' });
    // Frames flow again after the camera comes back.
    await waitForDecodedFrames(alice.page, 'Bob', await decodedFrames(alice.page, 'Bob'), 10);
  });

  it('has an About box in the call: the synthetic-video disclosure and the models\' licences', async () => {
    await checkAbout(alice.page);
  });

  it('removes the tile when a peer leaves, and a rejoin brings it back', async () => {
    await bob.page.click('[data-testid="leave"]');
    await bob.page.waitForSelector('[data-testid="call"]', { state: 'detached' });
    await alice.page.waitForSelector(remoteTile('Bob'), { state: 'detached', timeout: 15_000 });
    await checkAbout(bob.page); // the lobby has it too

    await joinCall(bob.page, server.url, room, 'Bob');
    expect(await waitForRemoteVideo(alice.page, 'Bob')).toEqual({ width: 640, height: 480 });
    expect(await waitForRemoteVideo(bob.page, 'Alice')).toEqual({ width: 640, height: 480 });
    const shot = await remoteThumbnail(alice.page, 'Bob');
    expect(bestCorrelation(shot, frames.bob)).toBeGreaterThan(0.95);
  });

  it('left no page errors behind', () => {
    expect(appErrors(alice)).toEqual([]);
    expect(appErrors(bob)).toEqual([]);
  });
});
