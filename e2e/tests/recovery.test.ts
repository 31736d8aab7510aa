// What a person sees when things go wrong: the media worker dies under a call,
// and the camera is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCall, launchParticipant, openApp, remoteThumbnail, type Participant, waitForRemoteVideo } from '../lib/browser.ts';
import { mediasoupWorkers } from '../lib/procstat.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { bestCorrelation } from '../lib/thumbnail.ts';
import { fakeCamera, y4mThumbnails } from '../lib/y4m.ts';

describe('recovery', () => {
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const cameras = { alice: fakeCamera('glasses'), bob: fakeCamera('talking') };

  beforeAll(async () => {
    // One media worker, so killing it certainly hits the room.
    server = await startServer({ MEDIASOUP_WORKERS: '1' });
    [alice, bob] = await Promise.all([launchParticipant(cameras.alice), launchParticipant(cameras.bob)]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it('a dead media worker closes the room with a message; Rejoin restores the call', async () => {
    const room = `recover-${Date.now().toString(36)}`;
    await joinCall(alice.page, server.url, room, 'Alice');
    await joinCall(bob.page, server.url, room, 'Bob');
    await waitForRemoteVideo(alice.page, 'Bob');

    const workers = mediasoupWorkers(server.process.pid!);
    expect(workers).toHaveLength(1);
    for (const pid of workers) process.kill(pid, 'SIGKILL');

    for (const p of [alice, bob]) {
      await p.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'closed');
      expect(await p.page.textContent('[data-testid="error"]')).toMatch(/room closed/i);
    }
    await alice.page.click('[data-testid="rejoin"]');
    await bob.page.click('[data-testid="rejoin"]');
    for (const p of [alice, bob]) {
      await p.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected');
    }
    expect(await waitForRemoteVideo(alice.page, 'Bob')).toEqual({ width: 640, height: 480 });
    const shot = await remoteThumbnail(alice.page, 'Bob');
    expect(bestCorrelation(shot, y4mThumbnails(cameras.bob.y4m))).toBeGreaterThan(0.95);
    expect((await (await fetch(`${server.url}/healthz`)).json()).workers).toEqual([{ pid: expect.any(Number), alive: true }]);
  });

  it('a refused camera gives a message the person can act on', async () => {
    const denied = await launchParticipant(cameras.alice, { denyMedia: true });
    try {
      await openApp(denied.page, `${server.url}/?room=denied&name=Dee`);
      await denied.page.waitForSelector('[data-testid="error"]');
      expect(await denied.page.textContent('[data-testid="error"]')).toMatch(/denied/i);
    } finally {
      await denied.close();
    }
  });
});
