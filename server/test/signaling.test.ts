// The socket.io edge against the real server: the request flow, pushes, teardown.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responses } from '@guise/shared';
import type { App } from '../src/app.ts';
import { joinWithMedia, opusRtpParameters, startTestApp, TestClient } from './helpers.ts';

describe('signaling over socket.io', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(); });
  afterAll(() => app.close());

  it('serves /healthz', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, workers: [{ pid: app.pool.pids[0], alive: true }] });
  });

  it('runs a two-peer call: join, produce, newProducer, consume, resume, close, leave', async () => {
    const alice = await TestClient.connect(app.url);
    const bob = await TestClient.connect(app.url);
    const a = await joinWithMedia(alice, 'call-1', 'Alice', 1234);
    const b = await joinWithMedia(bob, 'call-1', 'Bob');

    expect(b.joined.peers.map((p) => p.displayName)).toEqual(['Alice']);
    expect(b.joined.producers).toEqual([expect.objectContaining({ producerId: a.producerId, peerId: a.joined.peerId })]);
    expect(await alice.next('peerJoined')).toEqual({ id: b.joined.peerId, displayName: 'Bob' });

    // Appdata travels with newProducer, so a receiver can badge synthetic video.
    const { producerId: second } = await alice.request('produce', {
      transportId: a.send.id, kind: 'audio', rtpParameters: { ...opusRtpParameters(5678), mid: '1' },
      appData: { source: 'mic', synthetic: true, identityLabel: 'Astronaut' },
    });
    expect(await bob.next('newProducer', (p) => p.producerId === second))
      .toMatchObject({ peerId: a.joined.peerId, appData: { synthetic: true, identityLabel: 'Astronaut' } });

    const consumed = await bob.request('consume', { transportId: b.recv.id, producerId: a.producerId, rtpCapabilities: b.joined.rtpCapabilities });
    expect(consumed).toMatchObject({ producerId: a.producerId, kind: 'audio', producerPaused: false });
    await bob.request('resumeConsumer', { consumerId: consumed.consumerId });

    await alice.request('pauseProducer', { producerId: a.producerId! });
    expect(await bob.next('producerPaused')).toEqual({ producerId: a.producerId, peerId: a.joined.peerId });
    await alice.request('resumeProducer', { producerId: a.producerId! });
    expect(await bob.next('producerResumed')).toEqual({ producerId: a.producerId, peerId: a.joined.peerId });

    // Switching identity mid-call updates the disclosure without a new producer.
    await alice.request('updateProducer', { producerId: second, appData: { source: 'mic', synthetic: false } });
    expect(await bob.next('producerUpdated')).toEqual({ producerId: second, peerId: a.joined.peerId, appData: { source: 'mic', synthetic: false }, at: expect.any(Number) });
    await expect(alice.request('updateProducer', { producerId: second, appData: { source: 'camera', synthetic: true } })).rejects.toThrow(/bad_request/);
    await expect(bob.request('updateProducer', { producerId: second, appData: { source: 'mic', synthetic: true } })).rejects.toThrow(/not_found/);

    await alice.request('closeProducer', { producerId: second });
    expect(await bob.next('producerClosed')).toEqual({ producerId: second, peerId: a.joined.peerId });

    await expect(alice.request('join', { room: 'other', displayName: 'A' })).rejects.toThrow(/already_joined/);
    await bob.request('leave', {});
    expect(await alice.next('peerLeft')).toEqual({ peerId: b.joined.peerId });
    // After leaving, requests that need a room are refused, and a rejoin works.
    await expect(bob.request('createTransport', { direction: 'send' })).rejects.toThrow(/not_joined/);
    const rejoined = await bob.request('join', { room: 'call-1', displayName: 'Bob' });
    expect(rejoined.peers.map((p) => p.id)).toEqual([a.joined.peerId]);

    // A disconnect is a leave; the last one out closes the room.
    bob.close();
    await alice.next('peerLeft', (m) => m.peerId === rejoined.peerId);
    alice.close();
    for (let i = 0; i < 100 && app.rooms.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(app.rooms.size).toBe(0);
  });

  it('answers bad requests with an error ack carrying a code and a message', async () => {
    const c = await TestClient.connect(app.url);
    expect(await c.raw('nonsense', {})).toEqual({ ok: false, error: { code: 'unknown_request', message: 'unknown request "nonsense"' } });
    expect(await c.raw('join', { room: 'a b', displayName: 'x' })).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/^join: room: /) } });
    expect(await c.raw('join')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await c.raw('consume', { transportId: 't', producerId: 'p', rtpCapabilities: { codecs: [] } })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    await c.request('join', { room: 'bad-ids', displayName: 'C' });
    expect(await c.raw('connectTransport', { transportId: 'missing', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }))
      .toMatchObject({ ok: false, error: { code: 'not_found' } });
    const send = await c.request('createTransport', { direction: 'send' });
    // mediasoup itself rejects nonsense RTP parameters; the server turns that into an ack.
    expect(await c.raw('produce', { transportId: send.id, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H265' }] }, appData: { source: 'camera', synthetic: false } }))
      .toMatchObject({ ok: false, error: { code: 'media_error' } });
    c.close();
  });
});

/** A port free for both UDP and TCP right now, from the system's ephemeral range. */
async function freeUdpAndTcpPort(): Promise<number> {
  for (;;) {
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const { port } = tcp.address() as net.AddressInfo;
    const udp = dgram.createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    await new Promise((resolve) => tcp.close(resolve));
    if (udpFree) return port;
  }
}

describe('media ports', () => {
  it('puts every transport of a worker on its WebRtcServer\'s one UDP and one TCP port, RTC_PORT + index when set', async () => {
    const port = await freeUdpAndTcpPort();
    const app = await startTestApp(1, { RTC_PORT: String(port) });
    const clients = await Promise.all([TestClient.connect(app.url), TestClient.connect(app.url)]);
    try {
      const transports: Responses['createTransport'][] = [];
      for (const [i, c] of clients.entries()) {
        const { send, recv } = await joinWithMedia(c, `ports-${i}`, `P${i}`);
        transports.push(send, recv);
      }
      const ports = (protocol: string) => new Set(transports.flatMap((t) => t.iceCandidates.filter((c) => c.protocol === protocol).map((c) => c.port)));
      expect([...ports('udp')]).toEqual([port]);
      expect([...ports('tcp')]).toEqual([port]);

      // A replacement for a dead worker listens where the dead one did.
      const replaced = new Promise((resolve) => app.pool.once('replaced', resolve));
      process.kill(app.pool.pids[0]!, 'SIGKILL');
      await replaced;
      const fresh = await TestClient.connect(app.url);
      clients.push(fresh);
      const { send } = await joinWithMedia(fresh, 'ports-after', 'Fresh');
      expect(send.iceCandidates.map((c) => [c.protocol, c.port]).sort()).toEqual([['tcp', port], ['udp', port]]);
    } finally {
      for (const c of clients) c.close();
      await app.close();
    }
  });
});
