// One participant: its display name, what it may do, how to reach it, and the
// media objects it owns. Closing a peer closes all of them.
import type { types } from 'mediasoup';
import type { Notifications, NotificationName, PeerInfo, ProducerAppData, RequestData } from '@guise/shared';
import type { Grants } from '../auth/joinClaims.ts';
import { nameKey } from './displayName.ts';

export type Notify = <N extends NotificationName>(name: N, data: Notifications[N]) => void;

/** What a transport remembers about itself: the direction the peer asked for. */
export type TransportAppData = RequestData<'createTransport'>;

export class Peer {
  readonly transports = new Map<string, types.WebRtcTransport<TransportAppData>>();
  readonly producers = new Map<string, types.Producer<ProducerAppData>>();
  readonly consumers = new Map<string, types.Consumer>();
  /** Producers this peer consumes or is starting to consume: one consumer each. */
  readonly consumedProducers = new Set<string>();
  /** Names that look alike share a key; a room holds one of each. */
  readonly nameKey: string;

  constructor(readonly id: string, readonly displayName: string, readonly notify: Notify, readonly grants: Grants) {
    this.nameKey = nameKey(displayName);
  }

  get info(): PeerInfo { return { id: this.id, displayName: this.displayName }; }

  private readonly closers: (() => void)[] = [];

  /** Runs `fn` when the peer closes (a router of its own, say). */
  onClose(fn: () => void): void { this.closers.push(fn); }

  /** Closing the transports closes their producers and consumers too. */
  close(): void {
    for (const fn of this.closers.splice(0)) fn();
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.consumedProducers.clear();
  }
}
