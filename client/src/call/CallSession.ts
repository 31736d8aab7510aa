// One person's presence in a call, modelled on mediasoup-demo's RoomClient:
// join → load the Device → a send and a recv transport → produce camera and
// mic → consume everyone else. The UI reads immutable CallState snapshots
// through the Svelte store contract (`$session` in a component).
//
// Each pass at being in the room is an Attempt. Losing it (socket drop, room
// closed, leave) aborts it and closes everything it made; a late answer that
// belongs to a lost Attempt is dropped, so a reconnect never mixes old and new
// state.
import { Device } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import type { Grants, IceServer, PeerInfo, ProducerAppData, ProducerInfo } from '@guise/shared';
import { createVideoPipeline, type Disclosure, type VideoPipeline, type VideoPipelineFactory } from '../pipeline/VideoPipeline.ts';
import { DisclosureHistory } from './disclosureHistory.ts';
import {
  connectionLostMessage, disconnectedMessage, failedMessage, hostMutedMessage, joinRefusal, removedByHostMessage,
  roomClosedMessage, unreachableMessage,
} from './messages.ts';
import { NodeRoute } from './nodeRoute.ts';
import { connectSignaling, SignalingError, type ConnectionState, type Signaling, type StateCause } from './signaling.ts';
import type { CallState, CallStatus, JoinOptions, RemotePeer } from './types.ts';

export type { CallState, CallStatus, JoinOptions, RemotePeer } from './types.ts';

export interface CallSessionDeps {
  /** Opens signaling to the page's server, or to `url`: another node of a cluster. */
  connect: (url?: string) => Signaling;
  createDevice: () => Promise<Device>;
  createPipeline: VideoPipelineFactory;
  /** Named in "can't reach the server" messages. */
  serverUrl: string;
  /** Media only through the server's TURN relay (`&relay=1`): tests the relay, or hides this device's addresses. */
  forceRelay: boolean;
}

type Source = ProducerAppData['source'];

interface RemoteProducer {
  info: ProducerInfo;
  paused: boolean;
  /** A producerPaused/producerResumed notice arrived for it (newer than any consume answer in flight). */
  noticed?: boolean;
  consumer?: ms.Consumer;
}

/** Thrown inside an Attempt's steps once the Attempt is lost; never shown. */
class Superseded extends Error {}

class Attempt {
  private readonly lifetime = new AbortController();
  selfId: string | null = null;
  device: Device | undefined;
  readonly transports: ms.Transport[] = [];
  /** Consumers wait for the recv transport, which exists only after join and the Device load. */
  readonly recv = deferred<ms.Transport>();
  readonly producers = new Map<Source, ms.Producer>();
  /** Remote producers by producer id, consumed or on their way. */
  readonly remote = new Map<string, RemoteProducer>();
  readonly peers = new Map<string, PeerInfo>();
  /** What the join answer granted: a roomAdmin gets the host controls. */
  grants: Grants | null = null;
  locked = false;
  /** TURN servers from the join answer, with this peer's credentials. */
  iceServers: IceServer[] = [];

  get closed(): boolean { return this.lifetime.signal.aborted; }

  /** Stops a step that waited on the server while the attempt was lost. */
  check(): void { this.lifetime.signal.throwIfAborted(); }

  /** Closes everything the attempt made. The server side is gone or going. */
  close(): void {
    this.lifetime.abort(new Superseded());
    this.recv.reject(this.lifetime.signal.reason);
    for (const producer of this.producers.values()) producer.close();
    for (const entry of this.remote.values()) entry.consumer?.close();
    for (const transport of this.transports) transport.close();
    this.producers.clear();
    this.remote.clear();
    this.peers.clear();
  }
}

export class CallSession {
  private readonly deps: CallSessionDeps;
  private readonly subscribers = new Set<(state: CallState) => void>();
  private current: CallState;

  private status: CallStatus = 'idle';
  private error: string | null = null;
  private target: { room: string; displayName: string; token?: string } | null = null;
  /** True while the session should be in the room (rejoin after a reconnect). */
  private wantInRoom = false;
  private signaling: Signaling | undefined;
  private signalingOff: (() => void)[] = [];
  private offDisclosure: (() => void) | undefined;
  private attempt: Attempt | undefined;
  private media: { video: MediaStreamTrack | null; audio: MediaStreamTrack | null; pipeline: VideoPipeline | null } =
    { video: null, audio: null, pipeline: null };
  private micMuted = false;
  private cameraOff = false;
  /** Set when a room admin paused our mic or camera; cleared when we turn it back on. */
  private hostMuted = { audio: false, video: false };
  /** Which peers' video has ever been declared synthetic in this call. */
  private readonly disclosures = new DisclosureHistory();
  /** Which node the signaling talks to: the page's server, or the cluster node holding the room. */
  private readonly route: NodeRoute;
  /** A move to another node waiting for its delay. */
  private moveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: Partial<CallSessionDeps> = {}) {
    this.deps = {
      connect: deps.connect ?? ((url) => connectSignaling(url)),
      createDevice: deps.createDevice ?? (() => Device.factory()),
      createPipeline: deps.createPipeline ?? createVideoPipeline,
      serverUrl: deps.serverUrl ?? (typeof location === 'undefined' ? 'this address' : location.origin),
      forceRelay: deps.forceRelay ?? false,
    };
    this.route = new NodeRoute(this.deps.serverUrl);
    this.current = this.snapshot();
  }

  /** The latest snapshot. */
  get state(): CallState { return this.current; }

  /** Svelte store contract: `run` gets the current state now and every change after. */
  subscribe(run: (state: CallState) => void): () => void {
    this.subscribers.add(run);
    run(this.current);
    return () => { this.subscribers.delete(run); };
  }

  /**
   * Joins `room`, taking ownership of the given tracks (stopped on leave).
   * Resolves once the first attempt is settled: connected, or failed with
   * `state.error` set. While the server is unreachable it keeps waiting.
   */
  join(opts: JoinOptions): Promise<void> {
    if (this.status !== 'idle') return Promise.reject(new Error('already in a call; leave it first'));
    this.target = { room: opts.room, displayName: opts.displayName, ...(opts.token ? { token: opts.token } : {}) };
    this.disclosures.clear();
    const video = opts.video ?? null;
    const audio = opts.audio ?? null;
    const pipeline = opts.pipeline ?? (video ? this.deps.createPipeline(video) : null);
    this.media = { video, audio, pipeline };
    this.offDisclosure = pipeline?.onDisclosure?.((d) => this.discloseVideo(d));
    this.micMuted = false;
    this.cameraOff = false;
    this.openSignaling();
    this.enterRoom();
    return this.untilSettled();
  }

  /** After the room closed or the connection was given up: a fresh join with the same media. */
  rejoin(): Promise<void> {
    if (!this.target || this.wantInRoom) return this.untilSettled();
    if (!this.signaling) this.openSignaling();
    this.enterRoom();
    return this.untilSettled();
  }

  setMicMuted(muted: boolean): Promise<void> {
    this.micMuted = muted;
    if (!muted) this.hostMuted.audio = false;
    return this.applyPause('mic', muted, this.media.audio);
  }

  setCameraOff(off: boolean): Promise<void> {
    this.cameraOff = off;
    if (!off) this.hostMuted.video = false;
    return this.applyPause('camera', off, this.media.pipeline?.output ?? null);
  }

  /** Leaves the room and releases everything: producers, consumers, transports, socket, tracks. */
  leave(): void {
    const sig = this.signaling;
    const a = this.attempt;
    // Closing the socket alone makes the server drop us; `leave` says it sooner.
    if (sig && a?.selfId && sig.state === 'connected') sig.request('leave', {}).catch(() => {});
    this.release(null);
  }

  // --- host controls (the server refuses them unless this peer is a room admin) ---

  /** The join token this session joined with, if any (an output link for a token room needs one). */
  get joinToken(): string | undefined { return this.target?.token; }

  /** A guest invite link for this room, from the server (`createInvite`). */
  async createInvite(): Promise<string> {
    try {
      const { url } = await this.requireSignaling('create an invite').request('createInvite', {});
      return url;
    } catch (err) {
      this.update({ error: failedMessage('create an invite', err) });
      throw err;
    }
  }

  removePeer(peerId: string): Promise<void> {
    return this.hostAction(`remove ${this.nameOf(peerId)}`, (sig) => sig.request('removePeer', { peerId }));
  }

  mutePeer(peerId: string, kind: 'audio' | 'video'): Promise<void> {
    const what = kind === 'audio' ? `mute ${this.nameOf(peerId)}` : `stop ${this.nameOf(peerId)}'s video`;
    return this.hostAction(what, (sig) => sig.request('mutePeer', { peerId, kind }));
  }

  setRoomLocked(locked: boolean): Promise<void> {
    return this.hostAction(locked ? 'lock the room' : 'unlock the room', async (sig) => {
      await sig.request('lockRoom', { locked });
      // The server tells the others; this admin learns it from the answer.
      if (this.attempt) this.attempt.locked = locked;
    });
  }

  private async hostAction(what: string, act: (sig: Signaling) => Promise<unknown>): Promise<void> {
    const a = this.attempt;
    try {
      await act(this.requireSignaling(what));
      this.update({});
    } catch (err) {
      if (a) this.failStep(a, what, err);
      else this.update({ error: failedMessage(what, err) });
    }
  }

  private requireSignaling(what: string): Signaling {
    if (!this.signaling || !this.attempt?.selfId) throw new SignalingError('not_joined', `join a room first to ${what}`);
    return this.signaling;
  }

  private nameOf(peerId: string): string {
    return this.attempt?.peers.get(peerId)?.displayName ?? 'the participant';
  }

  /**
   * Releases everything (producers, consumers, transports, socket, tracks)
   * and goes back to the lobby; `notice` says why, when it was not our choice.
   */
  private release(notice: string | null): void {
    this.wantInRoom = false;
    clearTimeout(this.moveTimer);
    this.dropAttempt();
    this.closeSignaling();
    this.route.reset();
    const { video, audio, pipeline } = this.media;
    this.offDisclosure?.();
    this.offDisclosure = undefined;
    pipeline?.destroy();
    video?.stop();
    audio?.stop();
    this.media = { video: null, audio: null, pipeline: null };
    this.target = null;
    this.micMuted = false;
    this.cameraOff = false;
    this.hostMuted = { audio: false, video: false };
    this.update({ status: 'idle', error: notice });
  }

  // --- the room -----------------------------------------------------------

  private enterRoom(): void {
    const sig = this.signaling!;
    this.wantInRoom = true;
    this.error = null;
    if (sig.state === 'connected') {
      void this.runAttempt(sig);
      return;
    }
    // The 'connected' state event starts the attempt.
    if (sig.state === 'disconnected') sig.reconnect();
    this.update({ status: sig.state === 'reconnecting' ? 'reconnecting' : 'connecting' });
  }

  private async runAttempt(sig: Signaling): Promise<void> {
    this.dropAttempt();
    const a = new Attempt();
    this.attempt = a;
    this.update({ status: 'connecting' });
    const { room, displayName, token } = this.target!;
    try {
      let joined;
      try {
        joined = await sig.request('join', { room, displayName, ...(token ? { token } : {}) });
      } catch (err) {
        // A cluster node that does not hold the room names the one that does: the same join goes there.
        if (!a.closed && err instanceof SignalingError && err.code === 'moved' && err.location && this.route.moved(err.location)) {
          globalThis.performance?.mark?.('guise:moved');
          this.moveNode(null);
          return;
        }
        // Refusals the person must act on (a new link, another name, a word with the host) go back to the lobby.
        const refusal = a.closed ? undefined : joinRefusal(err);
        if (refusal) { this.release(refusal); return; }
        throw err;
      }
      a.check();
      a.selfId = joined.peerId;
      a.grants = joined.grants ?? null;
      a.locked = joined.locked ?? false;
      a.iceServers = joined.iceServers ?? [];
      this.route.joined(joined.nodes);
      for (const p of joined.producers) this.disclosures.note(p.peerId, p.appData);
      for (const p of joined.peers) if (!a.peers.has(p.id)) a.peers.set(p.id, p);
      // In the room again: connection trouble is over. Errors from here on stick.
      this.update({ error: null });
      if (this.deps.forceRelay && a.iceServers.length === 0) {
        this.update({ error: 'Relay-only media was asked for (relay=1), but this server offers no TURN relay: video and sound cannot flow.' });
      }

      const device = await this.deps.createDevice();
      await device.load({ routerRtpCapabilities: joined.rtpCapabilities });
      a.check();
      a.device = device;

      a.recv.resolve(await this.createTransport(sig, a, 'recv'));
      for (const p of joined.producers) void this.consume(sig, a, p);

      const { pipeline, audio } = this.media;
      if (pipeline || audio) {
        const send = await this.createTransport(sig, a, 'send');
        // A failed publish is worth a message, not the whole call.
        if (pipeline) {
          const appData: ProducerAppData = { source: 'camera', synthetic: pipeline.synthetic };
          if (pipeline.identityLabel) appData.identityLabel = pipeline.identityLabel;
          await this.publish(sig, a, send, pipeline.output, appData).catch((err) => this.failStep(a, 'send your camera', err));
        }
        if (audio) {
          await this.publish(sig, a, send, audio, { source: 'mic', synthetic: false })
            .catch((err) => this.failStep(a, 'send your microphone', err));
        }
      }
      a.check();
      this.update({ status: 'connected' });
    } catch (err) {
      // A closed attempt was superseded; a dropped socket is the state handler's business.
      if (a.closed || (err instanceof SignalingError && err.code === 'disconnected')) return;
      this.dropAttempt();
      this.wantInRoom = false;
      this.update({ status: 'disconnected', error: failedMessage(`join room "${room}"`, err) });
    }
  }

  private async createTransport(sig: Signaling, a: Attempt, direction: 'send' | 'recv'): Promise<ms.Transport> {
    const answer = await sig.request('createTransport', { direction });
    a.check();
    // The media server is ICE-lite and has no TURN itself: a relay sits between this browser and it.
    const opts = {
      ...answer,
      iceServers: a.iceServers,
      ...(this.deps.forceRelay ? { iceTransportPolicy: 'relay' as const } : {}),
    };
    const transport = direction === 'send' ? a.device!.createSendTransport(opts) : a.device!.createRecvTransport(opts);
    a.transports.push(transport);

    // mediasoup-client asks for these once DTLS / a producer needs the server.
    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      sig.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(() => done(), fail);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
        sig.request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters,
          // Exactly the appData given to transport.produce(); the server wants it strict.
          appData: appData as ProducerAppData,
        }).then(({ producerId }) => done({ id: producerId }), fail);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' && !a.closed) {
        this.update({ error: 'The media connection to the server failed; a firewall may be blocking it. Try rejoining.' });
      }
    });
    return transport;
  }

  private async publish(
    sig: Signaling, a: Attempt, send: ms.Transport, track: MediaStreamTrack, appData: ProducerAppData,
  ): Promise<void> {
    const source = appData.source;
    const isOff = () => (source === 'mic' ? this.micMuted : this.cameraOff);
    // A producer made from a disabled track starts paused locally, so a muted
    // mic never sends a moment of sound; the server learns it right after.
    track.enabled = !isOff();
    // stopTracks: false: the tracks outlive producers (a rejoin reuses them).
    const producer = await send.produce({ track, stopTracks: false, appData });
    if (a.closed) producer.close();
    a.check();
    a.producers.set(source, producer);
    producer.on('trackended', () => {
      if (a.closed) return;
      const device = source === 'mic' ? 'microphone' : 'camera';
      this.update({ error: `Your ${device} stopped (unplugged or taken by another app). Leave and join again to restart it.` });
    });
    if (isOff()) {
      producer.pause();
      await sig.request('pauseProducer', { producerId: producer.id });
    } else if (producer.paused) {
      producer.resume();
    }
    this.update({});
  }

  /** consume → local consumer → resumeConsumer (the server creates it paused). */
  private async consume(sig: Signaling, a: Attempt, info: ProducerInfo): Promise<void> {
    if (a.closed || a.remote.has(info.producerId) || info.peerId === a.selfId) return;
    const entry: RemoteProducer = { info, paused: info.paused };
    a.remote.set(info.producerId, entry);
    const gone = () => a.closed || a.remote.get(info.producerId) !== entry;
    try {
      const recv = await a.recv.promise;
      const opts = await sig.request('consume', {
        transportId: recv.id,
        producerId: info.producerId,
        rtpCapabilities: a.device!.rtpCapabilities,
      });
      // The server's consumer closes along with its producer; nothing to undo.
      if (gone()) return;
      this.disclosures.note(opts.peerId, opts.appData);
      const consumer = await recv.consume({
        id: opts.consumerId,
        producerId: opts.producerId,
        kind: opts.kind,
        rtpParameters: opts.rtpParameters,
        // One stream id per peer lets the browser lip-sync its audio and video.
        streamId: `${opts.peerId}-av`,
        appData: { ...opts.appData },
      });
      if (gone()) { consumer.close(); return; }
      entry.consumer = consumer;
      // A pause/resume notice that overtook this answer is newer than the answer.
      if (!entry.noticed) entry.paused = opts.producerPaused;
      this.update({});
      await sig.request('resumeConsumer', { consumerId: consumer.id });
    } catch (err) {
      if (gone() || (err instanceof SignalingError && err.code === 'disconnected')) return;
      const who = a.peers.get(info.peerId)?.displayName ?? 'a participant';
      this.update({ error: failedMessage(`receive ${who}'s ${info.kind === 'audio' ? 'audio' : 'video'}`, err) });
    }
  }

  private removeRemote(a: Attempt, producerId: string): void {
    const entry = a.remote.get(producerId);
    if (!entry) return;
    entry.consumer?.close();
    a.remote.delete(producerId);
  }

  private async applyPause(source: Source, off: boolean, track: MediaStreamTrack | null): Promise<void> {
    const a = this.attempt;
    const producer = a?.closed ? undefined : a?.producers.get(source);
    this.update({});
    if (!producer) {
      // Not published (yet): the next publish reads the flag; keep the track in line.
      if (track) track.enabled = !off;
      return;
    }
    // Locally first: a paused producer disables its track, so nothing leaves
    // this machine even if the request below fails.
    if (off) producer.pause(); else producer.resume();
    try {
      await this.signaling!.request(off ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
    } catch (err) {
      if (a!.closed || (err instanceof SignalingError && err.code === 'disconnected')) return;
      const what = source === 'mic' ? (off ? 'mute' : 'unmute') : (off ? 'turn the camera off' : 'turn the camera on');
      this.update({ error: failedMessage(what, err) });
    }
  }

  /**
   * The pipeline switched identity (or turned the swap off): receivers learn
   * it through the camera producer's appData, on the same track.
   */
  private discloseVideo(d: Disclosure): void {
    const a = this.attempt;
    const producer = a?.producers.get('camera');
    this.update({});
    if (!a || !producer || !this.signaling) return;
    const appData: ProducerAppData = { source: 'camera', synthetic: d.synthetic };
    if (d.identityLabel) appData.identityLabel = d.identityLabel;
    producer.appData = appData;
    this.signaling.request('updateProducer', { producerId: producer.id, appData })
      .catch((err) => this.failStep(a, 'update the synthetic-video notice', err));
  }

  private failStep(a: Attempt, what: string, err: unknown): void {
    if (a.closed || err instanceof Superseded) return;
    if (err instanceof SignalingError && err.code === 'disconnected') return;
    this.update({ error: failedMessage(what, err) });
  }

  private dropAttempt(): void {
    const a = this.attempt;
    if (!a) return;
    this.attempt = undefined;
    a.close();
    this.update({});
  }

  // --- the socket ---------------------------------------------------------

  /**
   * Reconnects to the node the route chose (after `moved`, or after losing
   * a node of a cluster) and joins there; at once, or after a pause once
   * moves keep failing (a dead node's claim on the room runs out meanwhile).
   */
  private moveNode(notice: string | null): void {
    this.dropAttempt();
    this.closeSignaling();
    clearTimeout(this.moveTimer);
    this.update({ status: this.status === 'connected' || this.status === 'reconnecting' ? 'reconnecting' : 'connecting', error: notice ?? this.error });
    this.moveTimer = setTimeout(() => {
      if (!this.wantInRoom) return;
      this.openSignaling();
      this.enterRoom();
    }, this.route.delayMs);
  }

  private openSignaling(): void {
    this.closeSignaling();
    const sig = this.route.atHome ? this.deps.connect() : this.deps.connect(this.route.url);
    this.signaling = sig;
    this.signalingOff = [
      sig.onState((state, cause) => this.onConnectionState(sig, state, cause)),
      sig.on('peerJoined', (p) => this.inAttempt((a) => {
        if (!a.peers.has(p.id)) a.peers.set(p.id, p);
      })),
      sig.on('peerLeft', ({ peerId }) => this.inAttempt((a) => {
        for (const [id, entry] of a.remote) if (entry.info.peerId === peerId) this.removeRemote(a, id);
        a.peers.delete(peerId);
      })),
      sig.on('newProducer', (info) => this.inAttempt((a) => {
        this.disclosures.note(info.peerId, info.appData);
        void this.consume(sig, a, info);
      })),
      sig.on('producerClosed', ({ producerId }) => this.inAttempt((a) => this.removeRemote(a, producerId))),
      sig.on('producerPaused', ({ producerId }) => this.inAttempt((a) => this.setRemotePaused(a, producerId, true))),
      sig.on('producerResumed', ({ producerId }) => this.inAttempt((a) => this.setRemotePaused(a, producerId, false))),
      sig.on('producerUpdated', ({ producerId, peerId, appData }) => this.inAttempt((a) => {
        this.disclosures.note(peerId, appData);
        const entry = a.remote.get(producerId);
        if (entry) entry.info = { ...entry.info, appData };
      })),
      sig.on('mutedByHost', ({ producerId, kind }) => this.inAttempt((a) => this.mutedByHost(a, producerId, kind))),
      sig.on('roomLockChanged', ({ locked }) => this.inAttempt((a) => { a.locked = locked; })),
      sig.on('removedByHost', () => {
        if (!this.wantInRoom) return;
        this.release(removedByHostMessage);
      }),
      sig.on('roomClosed', ({ reason }) => {
        if (!this.wantInRoom) return;
        this.wantInRoom = false;
        this.dropAttempt();
        this.update({ status: 'closed', error: roomClosedMessage(reason) });
      }),
    ];
  }

  /** Runs a notification's effect on the live attempt (if any), then publishes the new state. */
  private inAttempt(fn: (a: Attempt) => void): void {
    const a = this.attempt;
    if (!a || a.closed) return;
    fn(a);
    this.update({});
  }

  /**
   * The server has paused our producer already; pausing it here too stops the
   * upload and shows the button as muted. Turning it back on is ours to do.
   */
  private mutedByHost(a: Attempt, producerId: string, kind: 'audio' | 'video'): void {
    const source: Source = kind === 'audio' ? 'mic' : 'camera';
    const producer = a.producers.get(source);
    if (!producer || producer.id !== producerId) return;
    producer.pause();
    if (kind === 'audio') this.micMuted = true; else this.cameraOff = true;
    this.hostMuted[kind] = true;
    this.error = hostMutedMessage(kind);
  }

  private setRemotePaused(a: Attempt, producerId: string, paused: boolean): void {
    const entry = a.remote.get(producerId);
    if (entry) { entry.paused = paused; entry.noticed = true; }
  }

  private onConnectionState(sig: Signaling, state: ConnectionState, cause?: StateCause): void {
    if (sig !== this.signaling || !this.wantInRoom) return;
    const unreachable = cause?.type === 'connect_error' ? unreachableMessage(this.route.url) : undefined;
    // In a cluster, a node that can't be reached or was lost is left for the next: it holds the room now or names who does.
    if (this.route.inCluster && (state === 'reconnecting' || (state === 'connecting' && cause?.type === 'connect_error'))) {
      this.route.lost();
      this.moveNode(state === 'reconnecting' ? connectionLostMessage : null);
      return;
    }
    switch (state) {
      case 'connected':
        // After a reconnect the server has forgotten us: join afresh.
        if (!this.attempt) void this.runAttempt(sig);
        break;
      case 'connecting':
        this.update({ status: 'connecting', error: unreachable ?? this.error });
        break;
      case 'reconnecting':
        this.dropAttempt();
        this.update({ status: 'reconnecting', error: unreachable ?? connectionLostMessage });
        break;
      case 'disconnected':
        this.wantInRoom = false;
        this.dropAttempt();
        this.update({ status: 'disconnected', error: unreachable ?? disconnectedMessage });
        break;
    }
  }

  private closeSignaling(): void {
    for (const off of this.signalingOff) off();
    this.signalingOff = [];
    this.signaling?.close();
    this.signaling = undefined;
  }

  // --- state --------------------------------------------------------------

  private update(patch: { status?: CallStatus; error?: string | null }): void {
    if (patch.status !== undefined) this.status = patch.status;
    if (patch.error !== undefined) this.error = patch.error;
    this.current = this.snapshot();
    for (const run of [...this.subscribers]) run(this.current);
  }

  private snapshot(): CallState {
    const a = this.attempt;
    const { pipeline, audio } = this.media;
    return {
      status: this.status,
      room: this.target?.room ?? null,
      displayName: this.target?.displayName ?? '',
      selfId: a?.selfId ?? null,
      local: {
        videoTrack: pipeline?.output ?? null,
        audioTrack: audio,
        micMuted: this.micMuted,
        cameraOff: this.cameraOff,
        synthetic: pipeline?.synthetic ?? false,
        mutedByHost: { ...this.hostMuted },
      },
      peers: a ? [...a.peers.values()].map((p) => remotePeer(p, a.remote, this.disclosures)) : [],
      grants: a?.grants ?? null,
      locked: a?.locked ?? false,
      error: this.error,
      canRejoin: this.status === 'closed' || this.status === 'disconnected',
      node: this.route.url,
    };
  }

  /** Resolves when the session is no longer on its way into the room. */
  private untilSettled(): Promise<void> {
    return new Promise((resolve) => {
      let off: (() => void) | undefined;
      let done = false;
      off = this.subscribe((s) => {
        if (done || s.status === 'connecting' || s.status === 'reconnecting') return;
        done = true;
        queueMicrotask(() => off?.());
        resolve();
      });
      if (done) off();
    });
  }
}

function remotePeer(p: PeerInfo, remote: Map<string, RemoteProducer>, disclosures: DisclosureHistory): RemotePeer {
  const mine = [...remote.values()].filter((r) => r.info.peerId === p.id);
  // Prefer a producer whose track has arrived; a peer sends one of each kind.
  const pick = (kind: 'audio' | 'video') =>
    mine.find((r) => r.info.kind === kind && r.consumer) ?? mine.find((r) => r.info.kind === kind);
  const video = pick('video');
  const audio = pick('audio');
  const synthetic = mine.some((r) => r.info.kind === 'video' && r.info.appData.synthetic);
  return {
    id: p.id,
    displayName: p.displayName,
    videoTrack: video?.consumer?.track ?? null,
    audioTrack: audio?.consumer?.track ?? null,
    videoPaused: video?.paused ?? false,
    audioPaused: audio?.paused ?? false,
    synthetic,
    wasSynthetic: !synthetic && disclosures.wasSynthetic(p.id),
    identityLabel: video?.info.appData.identityLabel ?? null,
  };
}

/**
 * What Promise.withResolvers gives, which Node 20 (the oldest Node the package
 * supports, and where the call tests run) lacks.
 */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {}); // an attempt lost before its recv transport existed
  return { promise, resolve, reject };
}
