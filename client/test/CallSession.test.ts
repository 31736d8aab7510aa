import { describe, expect, it, vi } from 'vitest';
import { CallSession } from '../src/call/CallSession.ts';
import { SignalingError } from '../src/call/signaling.ts';
import type { VideoPipeline } from '../src/pipeline/VideoPipeline.ts';
import { FakeSignaling, FakeTrack, fakeDevice, producer, settle } from './fakes.ts';

function setup(opts: { signaling?: FakeSignaling; pipeline?: (input: MediaStreamTrack) => VideoPipeline } = {}) {
  const sig = opts.signaling ?? new FakeSignaling();
  const signalings = [sig];
  const session = new CallSession({
    connect: () => signalings.at(-1)!,
    createDevice: fakeDevice,
    serverUrl: 'http://guise.test',
    ...(opts.pipeline ? { createPipeline: opts.pipeline } : {}),
  });
  const video = new FakeTrack('video');
  const audio = new FakeTrack('audio');
  const join = () => session.join({ room: 'r1', displayName: 'Me', video: video.asTrack(), audio: audio.asTrack() });
  return { sig, signalings, session, video, audio, join };
}

describe('CallSession', () => {
  it('joins, publishes camera and mic with strict appData, and consumes existing producers', async () => {
    const { sig, session, join, video } = setup();
    sig.room = {
      peers: [{ id: 'alice', displayName: 'Alice' }],
      producers: [producer('alice', 'video', { appData: { source: 'camera', synthetic: true } }), producer('alice', 'audio')],
    };
    await join();
    await settle();

    expect(session.state.status).toBe('connected');
    expect(session.state.error).toBeNull();
    expect(sig.sent('join')).toEqual([{ room: 'r1', displayName: 'Me' }]);
    expect(sig.sent('createTransport').map((d) => d.direction).sort()).toEqual(['recv', 'send']);
    const produced = sig.sent('produce');
    expect(produced.map((p) => p.appData)).toEqual([
      { source: 'camera', synthetic: false },
      { source: 'mic', synthetic: false },
    ]);
    expect(produced.map((p) => p.kind)).toEqual(['video', 'audio']);
    expect(sig.sent('connectTransport')).toHaveLength(2);
    // Every consumer is resumed once its local side exists.
    expect(sig.sent('resumeConsumer')).toHaveLength(2);

    const [alice] = session.state.peers;
    expect(alice).toMatchObject({ id: 'alice', displayName: 'Alice', synthetic: true, videoPaused: false, audioPaused: false });
    expect(alice!.videoTrack?.kind).toBe('video');
    expect(alice!.audioTrack?.kind).toBe('audio');
    expect(session.state.local.videoTrack).toBe(video.asTrack());
  });

  it('follows peers and producers as the server announces them', async () => {
    const { sig, session, join } = setup();
    await join();
    sig.push('peerJoined', { id: 'bob', displayName: 'Bob' });
    expect(session.state.peers.map((p) => p.displayName)).toEqual(['Bob']);
    expect(session.state.peers[0]!.videoTrack).toBeNull();

    sig.announce(producer('bob', 'video'));
    sig.announce(producer('bob', 'audio'));
    await settle();
    expect(session.state.peers[0]!.videoTrack).not.toBeNull();
    expect(session.state.peers[0]!.audioTrack).not.toBeNull();

    sig.push('producerPaused', { producerId: 'bob-audio', peerId: 'bob' });
    expect(session.state.peers[0]!.audioPaused).toBe(true);
    sig.push('producerResumed', { producerId: 'bob-audio', peerId: 'bob' });
    expect(session.state.peers[0]!.audioPaused).toBe(false);

    const { videoTrack, audioTrack } = session.state.peers[0]!;
    sig.push('producerClosed', { producerId: 'bob-video', peerId: 'bob' });
    expect(session.state.peers[0]!.videoTrack).toBeNull();
    expect(session.state.peers[0]!.audioTrack).not.toBeNull();
    expect(videoTrack!.readyState).toBe('ended'); // its consumer was closed

    sig.push('peerLeft', { peerId: 'bob' });
    expect(session.state.peers).toEqual([]);
    expect(audioTrack!.readyState).toBe('ended');
  });

  it('consumes a producer only once, even when join and newProducer both name it', async () => {
    const { sig, join } = setup();
    sig.room = { peers: [{ id: 'alice', displayName: 'Alice' }], producers: [producer('alice', 'video')] };
    await join();
    sig.push('newProducer', producer('alice', 'video'));
    await settle();
    expect(sig.sent('consume')).toHaveLength(1);
  });

  it('drops a consumer whose producer closed while it was being set up', async () => {
    const { sig, session, join } = setup();
    await join();
    sig.push('peerJoined', { id: 'bob', displayName: 'Bob' });
    sig.announce(producer('bob', 'video'));
    sig.push('producerClosed', { producerId: 'bob-video', peerId: 'bob' });
    await settle();
    expect(session.state.peers[0]!.videoTrack).toBeNull();
    expect(sig.sent('resumeConsumer')).toHaveLength(0);
  });

  it('mutes and turns the camera off through producer pause and the server', async () => {
    const { sig, session, join, audio, video } = setup();
    await join();

    await session.setMicMuted(true);
    expect(audio.enabled).toBe(false);
    expect(session.state.local.micMuted).toBe(true);
    expect(sig.sent('pauseProducer')).toHaveLength(1);
    await session.setMicMuted(false);
    expect(audio.enabled).toBe(true);
    expect(sig.sent('resumeProducer')).toHaveLength(1);

    await session.setCameraOff(true);
    expect(video.enabled).toBe(false);
    expect(session.state.local.cameraOff).toBe(true);
    const paused = sig.sent('pauseProducer').map((d) => d.producerId);
    expect(new Set(paused).size).toBe(2); // mic then camera: two different producers
  });

  it('publishes the pipeline output, never the raw camera, and flags synthetic video', async () => {
    const output = new FakeTrack('video');
    const destroy = vi.fn();
    const { sig, session, join, video } = setup({
      pipeline: () => ({ output: output.asTrack(), synthetic: true, identityLabel: 'Ada', destroy }),
    });
    await join();
    const camera = sig.sent('produce').find((p) => p.kind === 'video')!;
    expect(camera.appData).toEqual({ source: 'camera', synthetic: true, identityLabel: 'Ada' });
    expect(session.state.local.videoTrack).toBe(output.asTrack());
    expect(session.state.local.synthetic).toBe(true);

    session.leave();
    expect(destroy).toHaveBeenCalledOnce();
    expect(video.stopped).toBe(true);
  });

  it('shows a closed room and rejoins on request', async () => {
    const { sig, session, join } = setup();
    sig.room = { peers: [{ id: 'alice', displayName: 'Alice' }], producers: [producer('alice', 'video')] };
    await join();
    await settle();
    sig.push('roomClosed', { reason: 'media_worker_died' });
    expect(session.state.status).toBe('closed');
    expect(session.state.canRejoin).toBe(true);
    expect(session.state.error).toMatch(/^The room closed \(.+\)\. Rejoin/);
    expect(session.state.peers).toEqual([]);

    await session.rejoin();
    await settle();
    expect(session.state.status).toBe('connected');
    expect(session.state.error).toBeNull();
    expect(sig.sent('join')).toHaveLength(2);
    expect(sig.sent('produce')).toHaveLength(4);
    expect(session.state.peers.map((p) => p.id)).toEqual(['alice']);
  });

  it('joins afresh after the socket reconnects, keeping mute state', async () => {
    const { sig, session, join, audio } = setup();
    await join();
    sig.setState('reconnecting', { type: 'disconnect', message: 'transport close' });
    expect(session.state.status).toBe('reconnecting');
    expect(session.state.error).toMatch(/Lost the connection/);

    await session.setMicMuted(true);
    expect(audio.enabled).toBe(false);

    sig.setState('connected');
    await settle();
    expect(session.state.status).toBe('connected');
    expect(session.state.error).toBeNull();
    expect(sig.sent('join')).toHaveLength(2);
    // The new mic producer starts paused on the server too.
    const micProducer = sig.sent('produce').filter((p) => p.kind === 'audio');
    expect(micProducer).toHaveLength(2);
    expect(sig.sent('pauseProducer')).toHaveLength(1);
    expect(audio.enabled).toBe(false);
  });

  it("says when it can't reach the server, and joins once it can", async () => {
    const sig = new FakeSignaling('connecting');
    const { session, join } = setup({ signaling: sig });
    const joined = join();
    expect(session.state.status).toBe('connecting');
    sig.setState('connecting', { type: 'connect_error', message: 'xhr poll error' });
    expect(session.state.error).toBe("Can't reach the Guise server at http://guise.test. Retrying…");
    sig.setState('connected');
    await joined;
    expect(session.state.status).toBe('connected');
    expect(session.state.error).toBeNull();
  });

  it('reports a refused join and offers a rejoin', async () => {
    const { sig, session, join } = setup();
    sig.handlers.join = () => { throw new SignalingError('bad_request', 'room is full (16 peers)'); };
    await join();
    expect(session.state.status).toBe('disconnected');
    expect(session.state.canRejoin).toBe(true);
    expect(session.state.error).toBe('Couldn\'t join room "r1": room is full (16 peers)');
  });

  it('leave() releases everything and returns to idle', async () => {
    const { sig, session, join, video, audio } = setup();
    await join();
    session.leave();
    expect(session.state.status).toBe('idle');
    expect(sig.sent('leave')).toHaveLength(1);
    expect(sig.closed).toBe(true);
    expect(video.stopped && audio.stopped).toBe(true);
    // Late pushes from the old socket change nothing.
    sig.push('peerJoined', { id: 'late', displayName: 'Late' });
    expect(session.state.peers).toEqual([]);
  });

  it('joins without any local media (receive only)', async () => {
    const sig = new FakeSignaling();
    const session = new CallSession({ connect: () => sig, createDevice: fakeDevice });
    await session.join({ room: 'r', displayName: 'Viewer' });
    expect(session.state.status).toBe('connected');
    expect(sig.sent('createTransport').map((d) => d.direction)).toEqual(['recv']);
    expect(session.state.local.videoTrack).toBeNull();
  });

  it('works as a Svelte store', async () => {
    const { session, join } = setup();
    const seen: string[] = [];
    const off = session.subscribe((s) => { if (seen.at(-1) !== s.status) seen.push(s.status); });
    await join();
    off();
    expect(seen).toEqual(['idle', 'connecting', 'connected']);
  });
});
