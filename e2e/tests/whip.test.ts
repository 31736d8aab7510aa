// WHIP ingest (RFC 9725) against the real server, with GUISE_AUTH_SECRET set:
// Debian's simple-whip-client publishes GStreamer's test pattern (H.264, as
// OBS sends) and a tone into a room, under the name its token gives; a
// Chromium participant in the call sees and hears it, and the tile goes when
// the client ends its session (DELETE). A WHIP client written with Chromium's
// RTCPeerConnection covers the protocol's status codes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JoinTokens } from '@guise/server/auth/joinTokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, launchParticipant, remoteAudioLevel, remoteTile, waitForDecodedFrames, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { request, whipConnected, whipPublish } from '../lib/webrtcHttp.ts';
import { startWhipClient, type WhipClient } from '../lib/whipClient.ts';
import { fakeCamera } from '../lib/y4m.ts';

const SECRET = 'e2e-whip-secret-long-enough-for-hs256!!';

/** A token from the real CLI, as a host would make one for OBS. */
async function cliToken(room: string, name: string, port: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['guise', 'token', '--room', room, '--name', name, '--ttl', '1h'], {
    cwd: repoRoot, env: { ...process.env, GUISE_AUTH_SECRET: SECRET, PORT: port },
  });
  return stdout.trim().split('\n')[0]!;
}

/** The codec of the video the page receives, from its peer connections' stats. */
async function receivedVideoCodec(p: Participant): Promise<string[]> {
  return p.page.evaluate(async () => {
    const found: string[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) found.push(stats.get(s.codecId)?.mimeType);
      });
    }
    return found;
  });
}

describe('WHIP ingest', () => {
  let server: RunningServer;
  let viewer: Participant;
  let whip: WhipClient | undefined;
  const room = `whip-${Date.now().toString(36)}`;
  let port = '';

  beforeAll(async () => {
    server = await startServer({ GUISE_AUTH_SECRET: SECRET });
    port = new URL(server.url).port;
    viewer = await launchParticipant(fakeCamera('glasses'));
    // Keeps every peer connection the app makes, to read the received codec.
    await viewer.page.context().addInitScript(() => {
      const Native = window.RTCPeerConnection;
      const pcs: RTCPeerConnection[] = [];
      (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) { super(config); pcs.push(this); }
      };
    });
  });
  afterAll(async () => {
    await whip?.stop();
    await viewer?.close();
    await server?.stop();
  });

  it('simple-whip-client publishes H.264 and opus under its token\'s name; the call sees and hears it, and DELETE removes it', async () => {
    const viewerToken = await cliToken(room, 'Viewer', port);
    await viewer.page.goto(`${server.url}/?room=${room}&token=${viewerToken}&name=Viewer&autojoin=1`, { waitUntil: 'commit' });
    await viewer.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected', undefined, { timeout: 60_000 });

    const pattern = await cliToken(room, 'Pattern', port);
    const started = performance.now();
    whip = startWhipClient(`${server.url}/whip/${room}`, { token: pattern, video: 'h264' });
    const size = await waitForRemoteVideo(viewer.page, 'Pattern');
    console.log(`simple-whip-client start to the participant's first decoded frame: ${Math.round(performance.now() - started)} ms`);
    expect(size).toEqual({ width: 640, height: 480 });
    await waitForDecodedFrames(viewer.page, 'Pattern', 0, 30);
    expect(await receivedVideoCodec(viewer)).toContain('video/H264');
    const audio = await remoteAudioLevel(viewer.page, 'Pattern');
    expect(audio.readyState).toBe('live');
    expect(audio.rms).toBeGreaterThan(0.05); // a 440 Hz tone at half volume

    await whip.stop();
    expect(whip.logs.join('')).toMatch(/Disconnecting from server/);
    await viewer.page.waitForSelector(remoteTile('Pattern'), { state: 'detached' });
    expect(server.logs.join('')).toMatch(/"kind":"whip".*"why":"DELETE"/);
    whip = undefined;
  });

  it('answers each protocol case with the status code the RFC names (Chromium RTCPeerConnection client)', async () => {
    const page = await viewer.page.context().newPage();
    await page.goto(`${server.url}/healthz`);
    const endpoint = `${server.url}/whip/${room}`;
    const token = await cliToken(room, 'Canvas', port);

    // 415: the offer in another content type.
    expect((await whipPublish(page, endpoint, { token, contentType: 'text/plain' })).status).toBe(415);
    // 401: no token, and a tampered one.
    const none = await whipPublish(page, endpoint);
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/Authorization: Bearer/);
    expect((await whipPublish(page, endpoint, { token: `${token.slice(0, -2)}xx` })).status).toBe(401);
    // 401: a token for another room.
    expect((await whipPublish(page, endpoint, { token: await cliToken('another-room', 'Canvas', port) })).status).toBe(401);
    // 403: a valid token that may not publish.
    const watchOnly = await new JoinTokens(SECRET).sign({ room, name: 'Watcher', grants: { canPublish: false, canSubscribe: true, roomAdmin: false }, ttlSeconds: 600 });
    const forbidden = await whipPublish(page, endpoint, { token: watchOnly.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).toMatch(/publish/);
    // 404: a session that does not exist, and a path that names no endpoint.
    expect((await request(page, `${endpoint}/no-such-session`, 'DELETE', { token })).status).toBe(404);
    expect((await request(page, `${server.url}/whip/`, 'POST', { token, contentType: 'application/sdp', body: 'v=0' })).status).toBe(404);
    // 405: methods the endpoint does not take, with Allow.
    const get = await request(page, endpoint, 'GET', { token });
    expect(get.status).toBe(405);
    expect(get.allow).toMatch(/POST/);
    // 400: a body that is not SDP.
    expect((await request(page, endpoint, 'POST', { token, contentType: 'application/sdp', body: 'hello' })).status).toBe(400);

    // 201 with the answer and a Location; media flows; the participant shows under the token's name.
    const created = await whipPublish(page, endpoint, { token });
    expect(created.status).toBe(201);
    expect(created.contentType).toBe('application/sdp');
    expect(created.location).toMatch(new RegExp(`^/whip/${room}/[0-9a-f-]{36}$`));
    expect(created.text).toMatch(/a=ice-lite/);
    await whipConnected(page);
    await waitForRemoteVideo(viewer.page, 'Canvas');
    await waitForDecodedFrames(viewer.page, 'Canvas', 0, 10);
    // 405 on the session for anything but DELETE (and trickle PATCH), then DELETE ends it, once.
    expect((await request(page, `${server.url}${created.location}`, 'GET', { token })).status).toBe(405);
    expect((await request(page, `${server.url}${created.location}`, 'DELETE', { token })).status).toBe(200);
    await viewer.page.waitForSelector(remoteTile('Canvas'), { state: 'detached' });
    expect((await request(page, `${server.url}${created.location}`, 'DELETE', { token })).status).toBe(404);
    await page.close();
    expect(appErrors(viewer)).toEqual([]);
  });
});
