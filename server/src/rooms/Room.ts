// A Room owns one mediasoup Router and the peers in it. All room state changes
// happen here; the signaling edge only validates and routes messages.
//
// The protocol's RTP types are mediasoup-client's. mediasoup is released
// apart from it and lists a slightly different set of RTP header extensions
// (mediasoup 3.19 knows toffset, mediasoup-client 3.24 packet-id), so RTP
// values change type with a plain `as` where they enter or leave mediasoup.
// Each library skips the extensions it does not know, and mediasoup validates
// the rest in depth.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type {
  ProducerAppData, ProducerInfo, RequestData, Responses, RoomCloseReason, RtpCapabilities, RtpParameters,
} from '@guise/shared';
import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { withTimeout } from '../media/timeout.ts';
import type { RouterHome } from '../media/WorkerPool.ts';
import type { Peer, TransportAppData } from './Peer.ts';
import { nameKey } from './displayName.ts';
import { rtpParametersProblem } from './rtpChecks.ts';

/** Bounds that stop one client from exhausting the media worker. */
const MAX_TRANSPORTS_PER_PEER = 4;
const MAX_PRODUCERS_PER_PEER = 4;
const MAX_PEERS_PER_ROOM = 16;
/** Enough to receive every producer of a full room. */
const MAX_CONSUMERS_PER_PEER = (MAX_PEERS_PER_ROOM - 1) * MAX_PRODUCERS_PER_PEER + 4;
export const DEFAULT_MEDIA_TIMEOUT_MS = 10_000;

type CloseReason = RoomCloseReason | 'empty';

export class Room extends EventEmitter<{ close: []; removed: [Peer] }> {
  private readonly peers = new Map<string, Peer>();
  private closed = false;
  /** Set by a room admin: new joins are refused, except an admin's (a host who dropped can come back). */
  private locked = false;

  constructor(
    readonly id: string,
    private readonly router: types.Router,
    /** The worker's one UDP + one TCP listener, shared by every transport of every room on it. */
    private readonly webRtcServer: types.WebRtcServer,
    private readonly log: Logger,
    private readonly mediaTimeoutMs = DEFAULT_MEDIA_TIMEOUT_MS,
    /** Opens a router beside this room's, on the same worker (a WHEP viewer's own). */
    private readonly routerBeside?: (codecs: types.RouterRtpCodecCapability[]) => Promise<RouterHome>,
  ) {
    super();
    // Every member's connection waits for 'close' and 'removed', the registry for 'close'.
    this.setMaxListeners(2 * MAX_PEERS_PER_ROOM + 1);
    // The router dies with its worker; the room can't carry on without it.
    router.on('workerclose', () => this.close('media_worker_died'));
  }

  get isClosed(): boolean { return this.closed; }
  get peerCount(): number { return this.peers.size; }
  /** The peers, for metrics. */
  get members(): Iterable<Peer> { return this.peers.values(); }
  /** What the router speaks: WHIP and WHEP sessions map SDP offers onto it. */
  get rtpCapabilities(): types.RtpCapabilities { return this.router.rtpCapabilities; }

  /** The member called `name` (names that look alike match, as for name_taken). */
  memberNamed(name: string): Peer | undefined {
    const key = nameKey(name);
    for (const p of this.peers.values()) if (p.nameKey === key) return p;
    return undefined;
  }

  join(peer: Peer): Responses['join'] {
    this.assertOpen();
    if (this.locked && !peer.grants.roomAdmin) throw new RequestError('room_locked', 'the host has locked this room; ask them to unlock it');
    if (this.peers.size >= MAX_PEERS_PER_ROOM) throw new RequestError('limit_reached', `room is full (${MAX_PEERS_PER_ROOM} peers)`);
    const others = [...this.peers.values()];
    const namesake = others.find((p) => p.nameKey === peer.nameKey);
    if (namesake) throw new RequestError('name_taken', `someone in this room is already called "${namesake.displayName}"; pick another name`);
    this.peers.set(peer.id, peer);
    for (const other of others) other.notify('peerJoined', peer.info);
    this.log.info({ room: this.id, peer: peer.id, peers: this.peers.size }, 'peer joined');
    return {
      peerId: peer.id,
      rtpCapabilities: this.router.rtpCapabilities as RtpCapabilities,
      peers: others.map((p) => p.info),
      producers: others.flatMap((p) => [...p.producers.values()].map((pr) => producerInfo(p.id, pr))),
      grants: peer.grants,
      locked: this.locked,
    };
  }

  leave(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    peer.close();
    for (const other of this.peers.values()) other.notify('peerLeft', { peerId: peer.id });
    this.log.info({ room: this.id, peer: peer.id, peers: this.peers.size }, 'peer left');
    if (this.peers.size === 0) this.close('empty');
  }

  /** `home`: a router of the peer's own (sideRouterFor) instead of the room's. */
  async createTransport(peer: Peer, { direction }: RequestData<'createTransport'>, home?: RouterHome): Promise<Responses['createTransport']> {
    this.assertMember(peer);
    if (direction === 'send' && !peer.grants.canPublish) throw new RequestError('forbidden', 'your token does not allow publishing');
    if (direction === 'recv' && !peer.grants.canSubscribe) throw new RequestError('forbidden', 'your token does not allow receiving');
    if (peer.transports.size >= MAX_TRANSPORTS_PER_PEER) throw new RequestError('limit_reached', 'too many transports');
    const transport = await this.timed((home?.router ?? this.router).createWebRtcTransport<TransportAppData>({
      webRtcServer: home?.webRtcServer ?? this.webRtcServer,
      preferUdp: true,
      appData: { direction },
    }), 'open a transport', (late) => late.close());
    if (!this.peers.has(peer.id)) { transport.close(); throw new RequestError('not_joined', 'left the room'); }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(peer: Peer, { transportId, dtlsParameters }: RequestData<'connectTransport'>): Promise<void> {
    const transport = this.transportOf(peer, transportId);
    await this.timed(media(() => transport.connect({ dtlsParameters })), 'connect the transport');
  }

  async produce(peer: Peer, { transportId, kind, rtpParameters, appData }: RequestData<'produce'>): Promise<Responses['produce']> {
    if (!peer.grants.canPublish) throw new RequestError('forbidden', 'your token does not allow publishing');
    const transport = this.transportOf(peer, transportId, 'send');
    if (peer.producers.size >= MAX_PRODUCERS_PER_PEER) throw new RequestError('limit_reached', 'too many producers');
    const problem = rtpParametersProblem(rtpParameters);
    if (problem) throw new RequestError('bad_request', `produce: ${problem}`);
    const producer = await this.timed(
      media(() => transport.produce({ kind, rtpParameters: rtpParameters as types.RtpParameters, appData })),
      'start the producer', (late) => late.close(),
    );
    if (transport.closed) { producer.close(); throw new RequestError('not_joined', 'left the room'); }
    peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => peer.producers.delete(producer.id));
    const info = producerInfo(peer.id, producer);
    for (const other of this.peers.values()) if (other !== peer) other.notify('newProducer', info);
    return { producerId: producer.id };
  }

  /**
   * The consumer starts paused; the client resumes it once it is ready to
   * render, so no keyframe is lost. A WHEP viewer gives its offer's `mid` for
   * the m-line (mediasoup numbers them otherwise), and no RTX (its player
   * chose no payload type for mediasoup's); its transport is on its own router
   * (sideRouterFor), where the producer has the piped copy's id.
   */
  async consume(peer: Peer, { transportId, producerId, rtpCapabilities }: RequestData<'consume'>, whep?: { mid: string; pipedProducerId: string }): Promise<Responses['consume']> {
    if (!peer.grants.canSubscribe) throw new RequestError('forbidden', 'your token does not allow receiving');
    const transport = this.transportOf(peer, transportId, 'recv');
    const owner = this.producerOwner(producerId);
    if (!owner) throw new RequestError('not_found', `no producer ${producerId} in this room`);
    if (owner === peer) throw new RequestError('bad_request', 'cannot consume your own producer');
    const caps = rtpCapabilities as types.RtpCapabilities;
    let canConsume = false;
    try { canConsume = this.router.canConsume({ producerId, rtpCapabilities: caps }); } catch { /* malformed caps */ }
    if (!canConsume) {
      throw new RequestError('media_error', 'your device cannot receive this producer\'s codec');
    }
    if (peer.consumedProducers.has(producerId)) throw new RequestError('limit_reached', `you already receive producer ${producerId}`);
    if (peer.consumedProducers.size >= MAX_CONSUMERS_PER_PEER) throw new RequestError('limit_reached', 'too many consumers');
    const producer = owner.producers.get(producerId)!;
    // Reserved before the await, so two concurrent requests can't both pass the check above.
    peer.consumedProducers.add(producerId);
    let consumer: types.Consumer;
    try {
      consumer = await this.timed(
        media(() => transport.consume({
          producerId: whep?.pipedProducerId ?? producerId, rtpCapabilities: caps, paused: true, ...(whep ? { mid: whep.mid, enableRtx: false } : {}),
        })),
        'start the consumer', (late) => late.close(),
      );
    } catch (err) {
      peer.consumedProducers.delete(producerId);
      throw err;
    }
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => {
      peer.consumers.delete(consumer.id);
      peer.consumedProducers.delete(producerId);
    });
    consumer.on('producerclose', () => consumer.close());
    return {
      consumerId: consumer.id,
      producerId,
      peerId: owner.id,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters as RtpParameters,
      producerPaused: consumer.producerPaused,
      appData: producer.appData,
    };
  }

  async resumeConsumer(peer: Peer, { consumerId }: RequestData<'resumeConsumer'>): Promise<void> {
    this.assertMember(peer);
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new RequestError('not_found', `no consumer ${consumerId}`);
    await this.timed(consumer.resume(), 'resume the consumer');
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const producer = this.producerOf(peer, producerId);
    await this.timed(paused ? producer.pause() : producer.resume(), paused ? 'pause the producer' : 'resume the producer');
    const event = paused ? 'producerPaused' : 'producerResumed';
    for (const other of this.peers.values()) if (other !== peer) other.notify(event, { producerId, peerId: peer.id });
  }

  updateProducer(peer: Peer, producerId: string, appData: ProducerAppData): void {
    const producer = this.producerOf(peer, producerId);
    if (appData.source !== producer.appData.source) {
      throw new RequestError('bad_request', 'a producer\'s source cannot change');
    }
    producer.appData = appData;
    // Stamped with the server's clock: receivers learn when the disclosure changed, not only that it did.
    const at = Date.now();
    this.log.info({ room: this.id, peer: peer.id, producer: producerId, synthetic: appData.synthetic, label: appData.identityLabel, at }, 'disclosure changed');
    for (const other of this.peers.values()) if (other !== peer) other.notify('producerUpdated', { producerId, peerId: peer.id, appData, at });
  }

  closeProducer(peer: Peer, producerId: string): void {
    this.producerOf(peer, producerId).close();
    for (const other of this.peers.values()) if (other !== peer) other.notify('producerClosed', { producerId, peerId: peer.id });
  }

  /**
   * A router of `peer`'s own beside the room's, fed with `producerIds` through
   * pipes: for a WHEP viewer, whose player chose the payload types (mediasoup
   * sends a router's own, so the router is made with the player's). It closes
   * when the peer leaves or the room closes.
   */
  async sideRouterFor(peer: Peer, codecs: types.RouterRtpCodecCapability[], producerIds: string[]): Promise<{ home: RouterHome; piped: Map<string, string> }> {
    this.assertMember(peer);
    if (!this.routerBeside) throw new RequestError('internal', 'this room cannot open a side router');
    const home = await this.timed(this.routerBeside(codecs), 'open a router', (late) => late.router.close());
    const close = () => home.router.close();
    peer.onClose(close);
    this.router.observer.once('close', close);
    // Viewers come and go for the room's whole life: each takes its listener with it.
    home.router.observer.once('close', () => this.router.observer.off('close', close));
    // Piped producers get ids of their own: the two routers share a worker, whose ids must be unique.
    const piped = new Map<string, string>();
    try {
      for (const producerId of producerIds) {
        const { pipeProducer } = await this.timed(media(() => this.router.pipeToRouter({ producerId, router: home.router, keepId: false })), 'pipe the media');
        piped.set(producerId, pipeProducer!.id);
      }
    } catch (err) {
      close();
      throw err;
    }
    return { home, piped };
  }

  // --- host controls: a room admin acts on another peer or on the room ---

  /** The peer leaves as if it had left itself; it is told first, so it knows why. */
  removePeer(admin: Peer, peerId: string): void {
    const target = this.otherPeer(admin, peerId, 'remove');
    target.notify('removedByHost', {});
    this.log.info({ room: this.id, admin: admin.id, peer: peerId }, 'peer removed by a room admin');
    this.leave(target);
    this.emit('removed', target);
  }

  /**
   * Pauses the target's producers of `kind`, so the server forwards nothing
   * whatever its client does; the owner may resume (unmute) them itself.
   */
  async mutePeer(admin: Peer, peerId: string, kind: 'audio' | 'video'): Promise<void> {
    const target = this.otherPeer(admin, peerId, 'mute');
    const producers = [...target.producers.values()].filter((p) => p.kind === kind);
    if (producers.length === 0) throw new RequestError('not_found', `${target.displayName} sends no ${kind}`);
    for (const producer of producers) {
      await this.setProducerPaused(target, producer.id, true);
      target.notify('mutedByHost', { producerId: producer.id, peerId: target.id, kind });
    }
  }

  setLocked(admin: Peer, locked: boolean): void {
    this.assertAdmin(admin, locked ? 'lock the room' : 'unlock the room');
    this.locked = locked;
    this.log.info({ room: this.id, admin: admin.id, locked }, 'room lock changed');
    for (const p of this.peers.values()) if (p !== admin) p.notify('roomLockChanged', { locked });
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      peer.close();
      if (reason !== 'empty') peer.notify('roomClosed', { reason });
    }
    this.peers.clear();
    this.router.close();
    this.log.info({ room: this.id, reason }, 'room closed');
    this.emit('close');
  }

  private timed<T>(op: Promise<T>, what: string, onLate?: (late: T) => void): Promise<T> {
    return withTimeout(op, this.mediaTimeoutMs, what, onLate);
  }

  private assertOpen(): void {
    if (this.closed) throw new RequestError('room_closed', 'the room has closed; join again');
  }

  private assertMember(peer: Peer): void {
    this.assertOpen();
    if (this.peers.get(peer.id) !== peer) throw new RequestError('not_joined', 'join a room first');
  }

  private assertAdmin(peer: Peer, what: string): void {
    this.assertMember(peer);
    if (!peer.grants.roomAdmin) throw new RequestError('forbidden', `only a room admin can ${what}`);
  }

  /** Another member, for a host control; the admin cannot act on itself this way. */
  private otherPeer(admin: Peer, peerId: string, what: string): Peer {
    this.assertAdmin(admin, `${what} participants`);
    const target = this.peers.get(peerId);
    if (!target) throw new RequestError('not_found', `no peer ${peerId} in this room`);
    if (target === admin) throw new RequestError('bad_request', `you cannot ${what} yourself here`);
    return target;
  }

  private transportOf(peer: Peer, transportId: string, direction?: TransportAppData['direction']): types.WebRtcTransport<TransportAppData> {
    this.assertMember(peer);
    const transport = peer.transports.get(transportId);
    if (!transport) throw new RequestError('not_found', `no transport ${transportId}`);
    if (direction && transport.appData.direction !== direction) {
      throw new RequestError('bad_request', `transport ${transportId} is not a ${direction} transport`);
    }
    return transport;
  }

  private producerOf(peer: Peer, producerId: string): types.Producer<ProducerAppData> {
    this.assertMember(peer);
    const producer = peer.producers.get(producerId);
    if (!producer) throw new RequestError('not_found', `no producer ${producerId} of yours`);
    return producer;
  }

  private producerOwner(producerId: string): Peer | undefined {
    for (const p of this.peers.values()) if (p.producers.has(producerId)) return p;
    return undefined;
  }
}

/** mediasoup validates RTP/DTLS parameters in depth; whatever it refuses, the request got wrong. */
async function media<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new RequestError('media_error', err instanceof Error ? err.message : String(err));
  }
}

function producerInfo(peerId: string, producer: types.Producer<ProducerAppData>): ProducerInfo {
  return { producerId: producer.id, peerId, kind: producer.kind, paused: producer.paused, appData: producer.appData };
}
