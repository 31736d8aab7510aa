// WHIP and WHEP sessions: each is a Peer that joins its Room like any other
// member (names, limits, locks, host controls and clean-up all apply) and
// speaks to it through the same Room calls as the signaling handlers. What
// differs is only where its requests come from (one SDP offer, over HTTP)
// and where its notifications go (here, not a socket).
import { randomBytes, randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Notifications, NotificationName, RtpCapabilities, RtpParameters } from '@guise/shared';
import type { Grants } from '../auth/joinClaims.ts';
import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import { answerSdp } from './sdpAnswer.ts';
import type { RouterHome } from '../media/WorkerPool.ts';
import { egressCapabilities, egressRouterCodecs, egressSection, ingestSection, receivesMedia, type AcceptedSection } from './sdpMapping.ts';
import type { Offer } from './sdpOffer.ts';

/** A client that never completes ICE and DTLS in this long has gone: its session ends. */
const CONNECT_DEADLINE_MS = 30_000;

export type SessionKind = 'whip' | 'whep';

export interface Session {
  id: string;
  kind: SessionKind;
  room: Room;
  peer: Peer;
  /** Whose media a WHEP session carries. */
  source?: Peer;
  ip: string;
  end(why: string): void;
}

export class MediaSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly log: Logger) {}

  get size(): number { return this.sessions.size; }

  get(id: string): Session | undefined { return this.sessions.get(id); }

  countFrom(ip: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.ip === ip) n++;
    return n;
  }

  /**
   * WHIP: `name` joins `room` and publishes what the offer sends. Returns the
   * session and the SDP answer; on any failure nothing is left in the room.
   */
  async ingest(room: Room, offer: Offer, who: { name: string; grants: Grants; ip: string; synthetic: boolean }): Promise<{ session: Session; answer: string }> {
    const caps = room.rtpCapabilities;
    const sections = new Map(offer.media.flatMap((m) => {
      const s = ingestSection(m, caps);
      return s ? [[m.index, s] as const] : [];
    }));
    if (sections.size === 0) {
      throw new RequestError('media_error', 'the offer sends no audio or video in a codec this server takes (opus; VP8 or H.264 with packetization-mode=1)');
    }
    const session = this.open('whip', room, who.name, who.grants, who.ip);
    try {
      const transport = await this.transportFor(session, 'send', offer);
      for (const { kind, rtpParameters } of sections.values()) {
        await room.produce(session.peer, {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as RtpParameters,
          // The server cannot see what the pixels are: the publisher says so (?synthetic=1), or it is declared real.
          appData: kind === 'video' ? { source: 'camera', synthetic: who.synthetic, ...(who.synthetic ? { identityLabel: 'declared by the WHIP publisher' } : {}) } : { source: 'mic', synthetic: false },
        });
      }
      const accepted = new Map([...sections].map(([i, s]) => [i, s.answer]));
      return { session, answer: answerSdp(offer, transport, accepted, Date.now()) };
    } catch (err) {
      session.end('the offer could not be set up');
      throw err;
    }
  }

  /**
   * WHEP: a viewer joins `room` and receives `source`'s producers, one per
   * offered m-line of its kind. The session ends when the source leaves or
   * its media changes (a player then asks again and gets the new media).
   */
  async egress(room: Room, source: Peer, offer: Offer, who: { grants: Grants; ip: string }): Promise<{ session: Session; answer: string }> {
    if (source.producers.size === 0) throw new RequestError('not_found', `${source.displayName} sends no media yet`);
    // Only what the player asked for: a video-only offer gets no audio piped.
    const receiving = offer.media.filter(receivesMedia);
    const producers = [...source.producers.values()].filter((p) => receiving.some((m) => m.kind === p.kind));
    const viewerName = `${source.displayName.slice(0, 24)} viewer ${randomBytes(2).toString('hex')}`;
    const codecs = egressRouterCodecs(producers, receiving);
    if (codecs.length === 0) throw new RequestError('media_error', `the offer receives none of ${source.displayName}'s media in a codec it has`);
    const session = this.open('whep', room, viewerName, who.grants, who.ip, source);
    try {
      // mediasoup sends a router's own payload types; the player chose its own in the offer, so it gets a router made with those.
      const kinds = new Set(codecs.map((c) => c.kind));
      const { home, piped } = await room.sideRouterFor(session.peer, codecs, producers.filter((p) => kinds.has(p.kind)).map((p) => p.id));
      const transport = await this.transportFor(session, 'recv', offer, home);
      const accepted = new Map<number, AcceptedSection>();
      const taken = new Set<string>();
      const streamId = `guise-${source.id.slice(0, 8)}`;
      const consumers: string[] = [];
      for (const m of offer.media.filter(receivesMedia)) {
        const producer = producers.find((p) => p.kind === m.kind && piped.has(p.id) && !taken.has(p.id));
        if (!producer) continue;
        taken.add(producer.id);
        let consumed;
        try {
          consumed = await room.consume(session.peer, { transportId: transport.id, producerId: producer.id, rtpCapabilities: egressCapabilities(m) as RtpCapabilities }, { mid: m.mid, pipedProducerId: piped.get(producer.id)! });
        } catch (err) {
          // A codec this player can't take leaves its m-line rejected; the others carry on.
          if (err instanceof RequestError && err.code === 'media_error') continue;
          throw err;
        }
        consumers.push(consumed.consumerId);
        accepted.set(m.index, egressSection({ id: consumed.consumerId, rtpParameters: consumed.rtpParameters as types.RtpParameters }, streamId));
      }
      if (accepted.size === 0) throw new RequestError('media_error', `the offer receives none of ${source.displayName}'s media in a codec it has`);
      // Consumers start paused; media flows once DTLS is up, with a fresh keyframe.
      transport.on('dtlsstatechange', (state) => {
        if (state !== 'connected') return;
        for (const consumerId of consumers) void room.resumeConsumer(session.peer, { consumerId }).catch(() => {});
      });
      return { session, answer: answerSdp(offer, transport, accepted, Date.now()) };
    } catch (err) {
      session.end('the offer could not be set up');
      throw err;
    }
  }

  /** Joins a new peer to the room; its notifications end a WHEP session whose source is gone. */
  private open(kind: SessionKind, room: Room, name: string, grants: Grants, ip: string, source?: Peer): Session {
    const id = randomUUID();
    let ended = false;
    const session: Session = {
      id, kind, room, ip, source,
      peer: new Peer(randomUUID(), name, (event, data) => this.onNotification(session, event, data), grants),
      end: (why) => {
        if (ended) return;
        ended = true;
        this.sessions.delete(id);
        room.leave(session.peer);
        this.log.info({ kind, room: room.id, session: id, why }, 'media session ended');
      },
    };
    room.join(session.peer);
    this.sessions.set(id, session);
    this.log.info({ kind, room: room.id, session: id, peer: session.peer.id, name }, 'media session started');
    return session;
  }

  private async transportFor(session: Session, direction: 'send' | 'recv', offer: Offer, home?: RouterHome): Promise<types.WebRtcTransport> {
    const { room, peer } = session;
    const { id } = await room.createTransport(peer, { direction }, home);
    const transport = peer.transports.get(id)!;
    await room.connectTransport(peer, { transportId: id, dtlsParameters: offer.dtls as never });
    const deadline = setTimeout(() => session.end('ICE and DTLS did not complete in time'), CONNECT_DEADLINE_MS);
    deadline.unref();
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') clearTimeout(deadline);
      if (state === 'failed' || state === 'closed') session.end(`DTLS ${state}`);
    });
    // mediasoup reports 'disconnected' once the client's consent checks stop: it has gone.
    transport.on('icestatechange', (state) => { if (state === 'disconnected') session.end('ICE disconnected'); });
    transport.observer.once('close', () => { clearTimeout(deadline); session.end('transport closed'); });
    return transport;
  }

  private onNotification<N extends NotificationName>(session: Session, event: N, data: Notifications[N]): void {
    const source = session.source;
    if (event === 'roomClosed' || event === 'removedByHost') { session.end(event); return; }
    if (!source) return;
    const about = (data as { peerId?: string }).peerId;
    if (about !== source.id) return;
    if (event === 'peerLeft' || event === 'producerClosed' || event === 'newProducer') session.end(`${source.displayName}: ${event}`);
  }
}
