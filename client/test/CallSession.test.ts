// CallSession against the real Guise server, started in-process with a real
// mediasoup worker, over real socket.io connections. Node has no
// RTCPeerConnection, so each Device runs mediasoup-client's own FakeHandler:
// every request, RTP parameter set and notification still goes through the
// real server and mediasoup, only no media packets flow.
import { createServer as createTcpServer, connect as tcpConnect, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Device, FakeHandler, testFakeParameters, type types as ms } from 'mediasoup-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RequestData, RequestName, Responses } from '@guise/shared';
import { startApp, type App } from '@guise/server/app';
import { loadConfig } from '@guise/server/config';
import { createLogger } from '@guise/server/log';
import { JoinTokens } from '@guise/server/auth/joinTokens';
import { hostMutedMessage, removedByHostMessage } from '../src/call/messages.ts';
import { CallSession, type CallState, type RemotePeer } from '../src/call/CallSession.ts';
import { connectSignaling, type Signaling } from '../src/call/signaling.ts';
import type { VideoPipelineFactory } from '../src/pipeline/VideoPipeline.ts';
import { FakeTrack } from './fakes.ts';
import { until, within } from './until.ts';

function startGuise(port = 0, env: Record<string, string> = {}): Promise<App> {
  const config = loadConfig({
    PORT: String(port), HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: '1', LOG_LEVEL: 'silent', ...env,
  });
  return startApp(config, createLogger('silent'));
}

let app: App;
beforeAll(async () => { app = await startGuise(); });
afterAll(async () => { await app?.close(); });

let roomCount = 0;
const newRoom = () => `room-${++roomCount}`;

// --- what a test drives ------------------------------------------------------

interface RequestRecord { name: RequestName; data: unknown; outcome: 'pending' | 'ok' | string; response?: unknown }

/**
 * Passes everything through to the real signaling and writes down each
 * request and how the server answered it, so a test can check the traffic.
 */
function recorded(sig: Signaling, log: RequestRecord[]): Signaling {
  return {
    get state() { return sig.state; },
    request<N extends RequestName>(name: N, data: RequestData<N>): Promise<Responses[N]> {
      const entry: RequestRecord = { name, data, outcome: 'pending' };
      log.push(entry);
      const answer = sig.request(name, data);
      answer.then(
        (response) => { entry.outcome = 'ok'; entry.response = response; },
        (err: { code?: string }) => { entry.outcome = err.code ?? 'error'; },
      );
      return answer;
    },
    on: (name, cb) => sig.on(name, cb),
    onState: (cb) => sig.onState(cb),
    reconnect: () => sig.reconnect(),
    close: () => sig.close(),
  };
}

interface Member {
  name: string;
  session: CallSession;
  camera: FakeTrack;
  mic: FakeTrack;
  requests: RequestRecord[];
  /** What mediasoup-client made, seen through its observer API. */
  transports: ms.Transport[];
  producers: ms.Producer[];
  consumers: ms.Consumer[];
  join(room: string): Promise<void>;
  sent(name: RequestName): RequestRecord[];
}

const members: Member[] = [];

/** A person in a call: a CallSession on the real server, with a fake camera and mic. */
function member(name: string, opts: { url?: string; pipeline?: VideoPipelineFactory; media?: boolean; token?: string } = {}): Member {
  const url = opts.url ?? app.url;
  const requests: RequestRecord[] = [];
  const transports: ms.Transport[] = [];
  const producers: ms.Producer[] = [];
  const consumers: ms.Consumer[] = [];
  const session = new CallSession({
    connect: () => recorded(connectSignaling(url), requests),
    createDevice: async () => {
      const device = new Device({ handlerFactory: FakeHandler.createFactory(testFakeParameters) });
      device.observer.on('newtransport', (transport) => {
        transports.push(transport);
        transport.observer.on('newproducer', (p) => producers.push(p));
        transport.observer.on('newconsumer', (c) => consumers.push(c));
      });
      return device;
    },
    serverUrl: url,
    ...(opts.pipeline ? { createPipeline: opts.pipeline } : {}),
  });
  const camera = new FakeTrack('video');
  const mic = new FakeTrack('audio');
  const withMedia = opts.media ?? true;
  const m: Member = {
    name, session, camera, mic, requests, transports, producers, consumers,
    join: (room) => within(session.join({
      room, displayName: name, token: opts.token ?? null, ...(withMedia ? { video: camera.asTrack(), audio: mic.asTrack() } : {}),
    }), `${name}'s join of ${room} to settle`),
    sent: (req) => requests.filter((r) => r.name === req),
  };
  members.push(m);
  return m;
}

/** A peer that speaks the protocol itself, to make the server announce exactly what a test needs. */
const rawPeers: Signaling[] = [];
async function rawPeer(url = app.url): Promise<Signaling> {
  const sig = connectSignaling(url);
  rawPeers.push(sig);
  await until(() => sig.state === 'connected', 'a raw peer to connect');
  return sig;
}

/** RTP parameters as a browser sends them; enough for mediasoup to accept a producer. */
function rtpParameters(kind: 'audio' | 'video', ssrc: number) {
  const codec = kind === 'audio'
    ? { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }
    : { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] };
  return { mid: String(ssrc), codecs: [codec], headerExtensions: [], encodings: [{ ssrc }], rtcp: { cname: `raw-${ssrc}`, reducedSize: true } };
}

/** A real TCP hop between a client and the server, so a test can cut the network or take the server away. */
interface Proxy { url: string; listen(): Promise<void>; cut(opts?: { stopListening?: boolean }): Promise<void> }
const proxies: Proxy[] = [];

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function proxyTo(targetUrl: string, { listening = true } = {}): Promise<Proxy> {
  const target = Number(new URL(targetUrl).port);
  const port = await freePort();
  const open = new Set<TcpSocket>();
  let server: TcpServer | undefined;
  const proxy: Proxy = {
    url: `http://127.0.0.1:${port}`,
    async listen() {
      server = createTcpServer((downstream) => {
        const upstream = tcpConnect(target, '127.0.0.1');
        for (const s of [downstream, upstream]) {
          open.add(s);
          s.on('close', () => open.delete(s));
          s.on('error', () => { downstream.destroy(); upstream.destroy(); });
        }
        downstream.pipe(upstream).pipe(downstream);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', resolve);
      });
    },
    async cut({ stopListening = false } = {}) {
      const closing = stopListening && server ? new Promise((resolve) => server!.close(resolve)) : undefined;
      if (stopListening) server = undefined;
      for (const s of open) s.destroy();
      await closing;
    },
  };
  proxies.push(proxy);
  if (listening) await proxy.listen();
  return proxy;
}

afterEach(async () => {
  for (const m of members.splice(0)) m.session.leave();
  for (const sig of rawPeers.splice(0)) sig.close();
  await Promise.all(proxies.splice(0).map((p) => p.cut({ stopListening: true })));
});

// --- reading the state ---------------------------------------------------------

const peerNamed = (m: Member, displayName: string): RemotePeer | undefined =>
  m.session.state.peers.find((p) => p.displayName === displayName);

/** Waits until `m` receives both of `other`'s tracks, and returns how `m` sees `other`. */
function receiving(m: Member, other: string): Promise<RemotePeer> {
  return until(() => {
    const p = peerNamed(m, other);
    return p?.videoTrack && p.audioTrack ? p : undefined;
  }, `${m.name} to receive ${other}'s video and audio`);
}

const statusOf = (m: Member) => m.session.state.status;
const producerOf = (m: Member, kind: 'audio' | 'video') => m.producers.filter((p) => p.kind === kind && !p.closed).at(-1)!;

describe('CallSession on a real Guise server', () => {
  it('two sessions join a room, publish camera and mic with strict appData, and consume each other', async () => {
    const room = newRoom();
    const ada = member('Ada');
    const bob = member('Bob');
    await ada.join(room);
    expect(ada.session.state).toMatchObject({ status: 'connected', error: null, room, displayName: 'Ada', peers: [], canRejoin: false });
    await bob.join(room);
    expect(bob.session.state).toMatchObject({ status: 'connected', error: null });

    const bobSeenByAda = await receiving(ada, 'Bob');
    const adaSeenByBob = await receiving(bob, 'Ada');
    expect(bobSeenByAda).toMatchObject({
      id: bob.session.state.selfId, synthetic: false, identityLabel: null, videoPaused: false, audioPaused: false,
    });
    expect(adaSeenByBob.id).toBe(ada.session.state.selfId);
    expect(ada.session.state.selfId).not.toBe(bob.session.state.selfId);
    expect(bobSeenByAda.videoTrack!.kind).toBe('video');
    expect(bobSeenByAda.audioTrack!.kind).toBe('audio');
    expect(ada.session.state.peers).toHaveLength(1);
    expect(app.rooms.get(room)?.peerCount).toBe(2);

    for (const m of [ada, bob]) {
      expect(m.transports.map((t) => t.direction).sort()).toEqual(['recv', 'send']);
      // Camera first, then mic, each with exactly the appData the server's strict schema allows.
      expect(m.producers.map((p) => [p.kind, p.appData])).toEqual([
        ['video', { source: 'camera', synthetic: false }],
        ['audio', { source: 'mic', synthetic: false }],
      ]);
      expect(m.sent('connectTransport').map((r) => r.outcome)).toEqual(['ok', 'ok']);
    }
    // The passthrough pipeline publishes the camera track itself.
    expect(producerOf(ada, 'video').track).toBe(ada.camera.asTrack());
    expect(ada.session.state.local.videoTrack).toBe(ada.camera.asTrack());

    // Each consumes the other's two producers, once each, and resumes them on the server.
    expect(ada.consumers.map((c) => c.producerId).sort()).toEqual(bob.producers.map((p) => p.id).sort());
    expect(bob.consumers.map((c) => c.producerId).sort()).toEqual(ada.producers.map((p) => p.id).sort());
    for (const m of [ada, bob]) {
      await until(() => m.sent('resumeConsumer').filter((r) => r.outcome === 'ok').length === 2, `${m.name}'s consumers to be resumed`);
      expect(m.sent('resumeConsumer').map((r) => (r.data as { consumerId: string }).consumerId).sort())
        .toEqual(m.consumers.map((c) => c.id).sort());
      expect(m.requests.filter((r) => r.outcome !== 'ok')).toEqual([]);
    }
  });

  it('publishes the pipeline output, never the raw camera, and the server tells others it is synthetic', async () => {
    const room = newRoom();
    const output = new FakeTrack('video');
    const inputs: MediaStreamTrack[] = [];
    let destroyed = 0;
    const ada = member('Ada', {
      pipeline: (input) => {
        inputs.push(input);
        return { output: output.asTrack(), synthetic: true, identityLabel: 'Ada Lovelace', destroy: () => { destroyed++; } };
      },
    });
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);

    expect(inputs).toEqual([ada.camera.asTrack()]);
    const video = producerOf(ada, 'video');
    expect(video.track).toBe(output.asTrack());
    expect(video.track).not.toBe(ada.camera.asTrack());
    expect(video.appData).toEqual({ source: 'camera', synthetic: true, identityLabel: 'Ada Lovelace' });
    expect(ada.session.state.local).toMatchObject({ videoTrack: output.asTrack(), synthetic: true });

    // Bob learns it from the server, through the join answer's producer list.
    const adaSeenByBob = await receiving(bob, 'Ada');
    expect(adaSeenByBob).toMatchObject({ synthetic: true, identityLabel: 'Ada Lovelace' });
    expect(bob.consumers.find((c) => c.kind === 'video')!.appData).toEqual({ source: 'camera', synthetic: true, identityLabel: 'Ada Lovelace' });

    ada.session.leave();
    expect(destroyed).toBe(1);
    expect(ada.camera.stopped).toBe(true);
    expect(ada.mic.stopped).toBe(true);
    await until(() => bob.session.state.peers.length === 0, 'Bob to see Ada leave');
  });

  it('mute and camera-off pause the producers; the other side and newcomers see it', async () => {
    const room = newRoom();
    const ada = member('Ada');
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);
    await receiving(bob, 'Ada');

    await ada.session.setMicMuted(true);
    expect(ada.mic.enabled).toBe(false);
    expect(ada.session.state.local.micMuted).toBe(true);
    expect(producerOf(ada, 'audio').paused).toBe(true);
    await until(() => peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see Ada muted');
    expect(peerNamed(bob, 'Ada')!.videoPaused).toBe(false);

    await ada.session.setMicMuted(false);
    expect(ada.mic.enabled).toBe(true);
    expect(producerOf(ada, 'audio').paused).toBe(false);
    await until(() => !peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see Ada unmuted');

    await ada.session.setCameraOff(true);
    expect(ada.camera.enabled).toBe(false);
    expect(ada.session.state.local.cameraOff).toBe(true);
    expect(producerOf(ada, 'video').paused).toBe(true);
    await until(() => peerNamed(bob, 'Ada')!.videoPaused, 'Bob to see Ada\'s camera off');

    const paused = ada.sent('pauseProducer').map((r) => (r.data as { producerId: string }).producerId);
    expect(paused).toEqual([producerOf(ada, 'audio').id, producerOf(ada, 'video').id]);
    expect(ada.sent('resumeProducer').map((r) => r.outcome)).toEqual(['ok']);
    expect(ada.requests.filter((r) => r.outcome !== 'ok')).toEqual([]);

    // A newcomer learns the paused camera from the server's join answer.
    const cy = member('Cy', { media: false });
    await cy.join(room);
    const adaSeenByCy = await receiving(cy, 'Ada');
    expect(adaSeenByCy).toMatchObject({ videoPaused: true, audioPaused: false });
    const answer = cy.sent('join')[0]!.response as Responses['join'];
    expect(answer.producers.find((p) => p.kind === 'video')).toMatchObject({ peerId: ada.session.state.selfId, paused: true });
  });

  it('follows a peer\'s producers as the server announces, pauses, resumes and closes them', async () => {
    const room = newRoom();
    const ada = member('Ada');
    await ada.join(room);
    const raw = await rawPeer();
    const rawJoin = await raw.request('join', { room, displayName: 'Raw' });
    const seen = await until(() => peerNamed(ada, 'Raw'), 'Ada to see Raw join');
    expect(seen).toMatchObject({ id: rawJoin.peerId, videoTrack: null, audioTrack: null });

    const send = await raw.request('createTransport', { direction: 'send' });
    const { producerId: audioId } = await raw.request('produce', {
      transportId: send.id, kind: 'audio', rtpParameters: rtpParameters('audio', 1111), appData: { source: 'mic', synthetic: false },
    });
    const { producerId: videoId } = await raw.request('produce', {
      transportId: send.id, kind: 'video', rtpParameters: rtpParameters('video', 2222), appData: { source: 'camera', synthetic: false },
    });
    const { videoTrack, audioTrack } = await receiving(ada, 'Raw');
    expect(ada.consumers.filter((c) => !c.closed).map((c) => c.producerId).sort()).toEqual([audioId, videoId].sort());

    await raw.request('pauseProducer', { producerId: audioId });
    await until(() => peerNamed(ada, 'Raw')!.audioPaused, 'Ada to see Raw muted');
    await raw.request('resumeProducer', { producerId: audioId });
    await until(() => !peerNamed(ada, 'Raw')!.audioPaused, 'Ada to see Raw unmuted');

    await raw.request('closeProducer', { producerId: videoId });
    await until(() => peerNamed(ada, 'Raw')!.videoTrack === null, 'Ada to drop Raw\'s video');
    expect(videoTrack!.readyState).toBe('ended'); // its consumer was closed
    expect(peerNamed(ada, 'Raw')!.audioTrack).toBe(audioTrack);

    // A producer closed while Ada is still setting up its consumer leaves nothing behind.
    const { producerId: brief } = await raw.request('produce', {
      transportId: send.id, kind: 'video', rtpParameters: rtpParameters('video', 3333), appData: { source: 'camera', synthetic: false },
    });
    await raw.request('closeProducer', { producerId: brief });
    const consume = await until(
      () => ada.sent('consume').find((r) => (r.data as { producerId: string }).producerId === brief && r.outcome !== 'pending'),
      'Ada\'s consume of the brief producer to settle',
    );
    expect(['ok', 'not_found']).toContain(consume.outcome);
    await until(() => ada.consumers.filter((c) => c.producerId === brief).every((c) => c.closed), 'its consumer to close');
    expect(peerNamed(ada, 'Raw')!.videoTrack).toBeNull();

    await raw.request('leave', {});
    await until(() => ada.session.state.peers.length === 0, 'Ada to see Raw leave');
    expect(audioTrack!.readyState).toBe('ended');
    expect(ada.session.state).toMatchObject({ status: 'connected', error: null });
  });

  it('leave() releases everything, and the other side sees the peer go', async () => {
    const room = newRoom();
    const ada = member('Ada');
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);
    const { videoTrack, audioTrack } = await receiving(ada, 'Bob');
    await receiving(bob, 'Ada');

    bob.session.leave();
    expect(bob.session.state).toMatchObject({ status: 'idle', error: null, room: null, selfId: null, peers: [], canRejoin: false });
    expect(bob.camera.stopped && bob.mic.stopped).toBe(true);
    expect([...bob.transports, ...bob.producers, ...bob.consumers].every((x) => x.closed)).toBe(true);
    expect(bob.sent('leave')).toHaveLength(1);

    await until(() => ada.session.state.peers.length === 0, 'Ada to see Bob leave');
    expect(videoTrack!.readyState).toBe('ended');
    expect(audioTrack!.readyState).toBe('ended');
    expect(app.rooms.get(room)?.peerCount).toBe(1);

    // Bob's socket is closed: someone joining later changes nothing for him.
    const cy = member('Cy', { media: false });
    await cy.join(room);
    await until(() => peerNamed(ada, 'Cy'), 'Ada to see Cy');
    expect(bob.session.state.peers).toEqual([]);
    expect(bob.session.state.status).toBe('idle');
  });

  it('a killed media worker closes the room; rejoin() brings everyone back, still muted', async () => {
    const room = newRoom();
    const ada = member('Ada');
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);
    await receiving(bob, 'Ada');
    await ada.session.setMicMuted(true);

    const [pid] = app.pool.pids;
    process.kill(pid!, 'SIGKILL');
    await until(() => statusOf(ada) === 'closed' && statusOf(bob) === 'closed', 'both sessions to see the room close');
    for (const m of [ada, bob]) {
      expect(m.session.state).toMatchObject({
        status: 'closed', canRejoin: true, peers: [], error: 'The room closed (its media server stopped). Rejoin to continue.',
      });
      expect(m.producers.every((p) => p.closed)).toBe(true);
    }

    // The pool replaces the worker; a person clicks Rejoin after that.
    await until(() => app.pool.pids.length === 1 && app.pool.pids[0] !== pid, 'a replacement worker');
    await within(ada.session.rejoin(), 'Ada\'s rejoin');
    expect(ada.session.state).toMatchObject({ status: 'connected', error: null, canRejoin: false });
    await within(bob.session.rejoin(), 'Bob\'s rejoin');
    expect(bob.session.state).toMatchObject({ status: 'connected', error: null });

    const adaSeenByBob = await receiving(bob, 'Ada');
    await receiving(ada, 'Bob');
    expect(adaSeenByBob.id).toBe(ada.session.state.selfId);
    // The new mic producer starts paused, on the server too.
    await until(() => peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see Ada still muted');
    expect(ada.mic.enabled).toBe(false);
    expect(ada.sent('join').map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(ada.producers).toHaveLength(4);
    expect(producerOf(ada, 'audio').paused).toBe(true);
  });

  it('joins afresh after the connection drops, keeping mute state', async () => {
    const room = newRoom();
    const proxy = await proxyTo(app.url);
    const ada = member('Ada', { url: proxy.url });
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);
    await receiving(bob, 'Ada');
    await ada.session.setMicMuted(true);
    await until(() => peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see Ada muted');
    const firstId = ada.session.state.selfId;

    const seen: Pick<CallState, 'status' | 'error'>[] = [];
    ada.session.subscribe(({ status, error }) => {
      const last = seen.at(-1);
      if (last?.status !== status || last.error !== error) seen.push({ status, error });
    });
    await proxy.cut(); // the network drops; the server is still there

    await until(() => statusOf(ada) === 'connected' && ada.session.state.selfId !== firstId, 'Ada to join afresh', 10_000);
    expect(seen).toContainEqual({ status: 'reconnecting', error: 'Lost the connection to the server. Reconnecting…' });
    expect(ada.session.state.error).toBeNull();
    expect(ada.sent('join').map((r) => r.outcome)).toEqual(['ok', 'ok']);

    // Bob saw the old Ada leave and the new one arrive, still muted.
    const adaSeenByBob = await receiving(bob, 'Ada');
    expect(bob.session.state.peers).toHaveLength(1);
    expect(adaSeenByBob.id).toBe(ada.session.state.selfId);
    await until(() => peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see the new Ada muted');
    expect(ada.mic.enabled).toBe(false);
    expect(ada.session.state.local.micMuted).toBe(true);
  });

  it('while the server is unreachable it says so, keeps a mute made meanwhile, and joins afresh when back', async () => {
    const room = newRoom();
    const proxy = await proxyTo(app.url);
    const ada = member('Ada', { url: proxy.url });
    const bob = member('Bob');
    await ada.join(room);
    await bob.join(room);
    await receiving(bob, 'Ada');
    const firstId = ada.session.state.selfId;

    await proxy.cut({ stopListening: true }); // the server's address stops answering
    const unreachable = `Can't reach the Guise server at ${proxy.url}. Retrying…`;
    await until(() => ada.session.state.error === unreachable, 'the unreachable error', 10_000);
    expect(ada.session.state).toMatchObject({ status: 'reconnecting', peers: [], canRejoin: false });
    await until(() => bob.session.state.peers.length === 0, 'Bob to see Ada drop out');

    // Muting with no producer to pause: the flag and the track, nothing sent.
    await ada.session.setMicMuted(true);
    expect(ada.mic.enabled).toBe(false);
    expect(ada.session.state.local.micMuted).toBe(true);
    expect(ada.sent('pauseProducer')).toEqual([]);

    await proxy.listen();
    await until(() => statusOf(ada) === 'connected' && ada.session.state.selfId !== firstId, 'Ada to join afresh', 10_000);
    expect(ada.session.state.error).toBeNull();
    // The new mic producer is paused on the server, so Bob sees Ada muted.
    await receiving(bob, 'Ada');
    await until(() => peerNamed(bob, 'Ada')!.audioPaused, 'Bob to see Ada muted');
    expect(peerNamed(bob, 'Ada')!.videoPaused).toBe(false);
    expect(producerOf(ada, 'audio').paused).toBe(true);
    expect(ada.sent('pauseProducer').map((r) => r.outcome)).toEqual(['ok']);
  });

  it("says when it can't reach the server, and joins once it can", async () => {
    const room = newRoom();
    const proxy = await proxyTo(app.url, { listening: false }); // nothing at this address yet
    const ada = member('Ada', { url: proxy.url });
    let settled = false;
    const joined = ada.join(room).then(() => { settled = true; });

    await until(() => ada.session.state.error, 'the unreachable error');
    expect(ada.session.state).toMatchObject({
      status: 'connecting', error: `Can't reach the Guise server at ${proxy.url}. Retrying…`, canRejoin: false,
    });
    expect(settled).toBe(false);

    await proxy.listen();
    await within(joined, 'the join to settle once the server is reachable', 10_000);
    expect(ada.session.state).toMatchObject({ status: 'connected', error: null });
    expect(app.rooms.get(room)?.peerCount).toBe(1);
  });

  it('when the server shuts down: the room closes, and a rejoin says the server is unreachable', async () => {
    const other = await startGuise();
    try {
      const ada = member('Ada', { url: other.url });
      await ada.join('doomed');
      await other.close();

      await until(() => statusOf(ada) === 'closed', 'the room to close');
      expect(ada.session.state).toMatchObject({
        canRejoin: true, peers: [], error: 'The room closed (the server is shutting down). Rejoin to continue.',
      });

      void ada.session.rejoin();
      await until(() => ada.session.state.error?.startsWith("Can't reach"), 'the unreachable error');
      expect(ada.session.state).toMatchObject({
        status: 'reconnecting', error: `Can't reach the Guise server at ${other.url}. Retrying…`, canRejoin: false,
      });
    } finally {
      await other.close();
    }
  });

  it('reports a refused join and offers a rejoin that works once there is room', async () => {
    const room = newRoom();
    const fillers = await Promise.all(Array.from({ length: 16 }, () => rawPeer()));
    for (const [i, f] of fillers.entries()) await f.request('join', { room, displayName: `Filler ${i}` });

    const ada = member('Ada');
    await ada.join(room);
    expect(ada.session.state).toMatchObject({
      status: 'disconnected', canRejoin: true, peers: [], error: `Couldn't join room "${room}": room is full (16 peers)`,
    });
    expect(ada.sent('join').map((r) => r.outcome)).toEqual(['limit_reached']);

    fillers[0]!.close();
    await until(() => app.rooms.get(room)?.peerCount === 15, 'a filler to leave');
    await within(ada.session.rejoin(), 'Ada\'s rejoin');
    expect(ada.session.state).toMatchObject({ status: 'connected', error: null, canRejoin: false });
    expect(ada.session.state.peers).toHaveLength(15);

    // A name the server's schema refuses is reported the same way.
    const eve = member('Eve');
    await eve.join('no spaces!');
    expect(eve.session.state).toMatchObject({ status: 'disconnected', canRejoin: true });
    expect(eve.session.state.error).toBe('Couldn\'t join room "no spaces!": join: room: room must be 1-64 letters, digits, "-" or "_"');
  });

  it('sends a join refused for a reason the person can fix back to the lobby, with the message, releasing the media', async () => {
    const room = newRoom();
    const ada = member('Ada');
    await ada.join(room);
    const lookalike = member('ADA');
    await lookalike.join(room);
    expect(lookalike.session.state).toMatchObject({ status: 'idle', canRejoin: false });
    expect(lookalike.session.state.error).toBe('That name is taken: someone in this room is already called "Ada"; pick another name.');
    // The lobby opens its own camera and mic; the refused call's are stopped.
    expect(lookalike.camera.stopped).toBe(true);
    expect(lookalike.mic.stopped).toBe(true);
    expect(ada.session.state.peers).toEqual([]);
  });

  it('keeps "was synthetic" on a peer for the rest of the call once its video was declared synthetic', async () => {
    const room = newRoom();
    const bob = member('Bob');
    await bob.join(room);
    const raw = await rawPeer();
    await raw.request('join', { room, displayName: 'Eve' });
    const send = await raw.request('createTransport', { direction: 'send' });
    const { producerId } = await raw.request('produce', {
      transportId: send.id, kind: 'video', rtpParameters: rtpParameters('video', 7001), appData: { source: 'camera', synthetic: false },
    });
    const eve = () => peerNamed(bob, 'Eve');
    await until(() => eve()?.videoTrack, 'Bob to receive Eve\'s video');
    expect(eve()).toMatchObject({ synthetic: false, wasSynthetic: false });
    await raw.request('updateProducer', { producerId, appData: { source: 'camera', synthetic: true, identityLabel: 'Astronaut' } });
    await until(() => eve()?.synthetic, 'Bob to see Eve\'s video turn synthetic');
    // While it is synthetic the live badge says so; "was" is for afterwards.
    expect(eve()!.wasSynthetic).toBe(false);
    await raw.request('updateProducer', { producerId, appData: { source: 'camera', synthetic: false } });
    await until(() => eve()?.synthetic === false && eve()!.identityLabel === null, 'Bob to see Eve switch the swap off');
    expect(eve()).toMatchObject({ synthetic: false, wasSynthetic: true });
  });

  it('joins without any local media (receive only)', async () => {
    const room = newRoom();
    const bob = member('Bob');
    await bob.join(room);
    const viewer = member('Viewer', { media: false });
    await viewer.join(room);
    expect(viewer.session.state).toMatchObject({ status: 'connected', error: null });
    expect(viewer.transports.map((t) => t.direction)).toEqual(['recv']);
    expect(viewer.producers).toEqual([]);
    expect(viewer.session.state.local).toMatchObject({ videoTrack: null, audioTrack: null });

    await receiving(viewer, 'Bob');
    const seenByBob = await until(() => peerNamed(bob, 'Viewer'), 'Bob to see the viewer');
    expect(seenByBob).toMatchObject({ videoTrack: null, audioTrack: null });
  });

  it('works as a Svelte store', async () => {
    const ada = member('Ada');
    const seen: string[] = [];
    const off = ada.session.subscribe((s) => { if (seen.at(-1) !== s.status) seen.push(s.status); });
    await ada.join(newRoom());
    off();
    expect(seen).toEqual(['idle', 'connecting', 'connected']);
  });
});

describe('CallSession with join tokens and host controls', () => {
  const secret = 'call-session-secret-long-enough-for-hs256';
  let authApp: App;
  beforeAll(async () => { authApp = await startGuise(0, { GUISE_AUTH_SECRET: secret }); });
  afterAll(async () => { await authApp?.close(); });
  const token = (room: string, roomAdmin: boolean) => new JoinTokens(secret)
    .sign({ room, grants: { canPublish: true, canSubscribe: true, roomAdmin }, ttlSeconds: 600 }).then((t) => t.token);

  it('joins with a token; without one it is back in the lobby with a message', async () => {
    const room = newRoom();
    const nobody = member('Nobody', { url: authApp.url });
    await nobody.join(room);
    expect(nobody.session.state).toMatchObject({ status: 'idle' });
    expect(nobody.session.state.error).toMatch(/^This room needs a valid invite link \(this server needs a join token/);
    const host = member('Host', { url: authApp.url, token: await token(room, true) });
    await host.join(room);
    expect(host.session.state).toMatchObject({ status: 'connected', grants: { roomAdmin: true }, locked: false });
    expect(host.sent('join')[0]!.data).toMatchObject({ token: expect.any(String) });
    expect(await host.session.createInvite()).toMatch(new RegExp(`/\\?room=${room}&token=`));
  });

  it('lets the host mute a guest (who may unmute), lock the room, and remove the guest', async () => {
    const room = newRoom();
    const host = member('Host', { url: authApp.url, token: await token(room, true) });
    const guest = member('Guest', { url: authApp.url, token: await token(room, false) });
    await host.join(room);
    await guest.join(room);
    expect(guest.session.state.grants).toMatchObject({ roomAdmin: false });
    const guestSeen = await receiving(host, 'Guest');

    await host.session.mutePeer(guestSeen.id, 'audio');
    await until(() => guest.session.state.local.mutedByHost.audio, 'the guest to learn the host muted it');
    expect(guest.session.state.local.micMuted).toBe(true);
    expect(guest.session.state.error).toBe(hostMutedMessage('audio'));
    expect(producerOf(guest, 'audio').paused).toBe(true);
    await until(() => peerNamed(host, 'Guest')!.audioPaused, 'the host to see the guest muted');
    await guest.session.setMicMuted(false);
    expect(guest.session.state.local.mutedByHost.audio).toBe(false);
    await until(() => !peerNamed(host, 'Guest')!.audioPaused, 'the host to see the guest unmute');

    // A guest's host controls are refused by the server, and the refusal is shown.
    await guest.session.mutePeer(peerNamed(guest, 'Host')!.id, 'audio');
    expect(guest.session.state.error).toBe('Couldn\'t mute Host: only a room admin can mute participants');
    expect(peerNamed(guest, 'Host')!.audioPaused).toBe(false);

    await host.session.setRoomLocked(true);
    expect(host.session.state.locked).toBe(true);
    await until(() => guest.session.state.locked, 'the guest to see the room locked');

    await host.session.removePeer(guestSeen.id);
    await until(() => guest.session.state.status === 'idle', 'the guest to be sent back to the lobby');
    expect(guest.session.state.error).toBe(removedByHostMessage);
    await until(() => host.session.state.peers.length === 0, 'the host to see the guest go');

    // The room is locked: the guest's valid token no longer gets in.
    await guest.join(room);
    expect(guest.session.state).toMatchObject({ status: 'idle', error: expect.stringMatching(/^The host has locked this room/) });
  });
});

