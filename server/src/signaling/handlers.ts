// One small function per request made from inside a room. Each gets the
// caller's room and peer, already resolved by the Connection, and a validated
// payload; room state changes stay inside Room. `join` and `leave` change the
// membership itself, and `createInvite` needs the token signer, so the
// Connection answers those.
import type { RequestData, RequestName, Responses } from '@guise/shared';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';

/** Who sent a request: a peer and the open room it is in. */
export interface Member { room: Room; peer: Peer }

type MemberRequestName = Exclude<RequestName, 'join' | 'leave' | 'createInvite'>;

/** A request whose response is an empty object needs no return value; the Connection acks `{}`. */
type Reply<N extends RequestName> = Record<never, never> extends Responses[N] ? void : Responses[N];

type Handler<N extends MemberRequestName> = (member: Member, data: RequestData<N>) => Promise<Reply<N>> | Reply<N>;

export const handlers: { [N in MemberRequestName]: Handler<N> } = {
  createTransport: ({ room, peer }, data) => room.createTransport(peer, data),
  connectTransport: ({ room, peer }, data) => room.connectTransport(peer, data),
  produce: ({ room, peer }, data) => room.produce(peer, data),
  consume: ({ room, peer }, data) => room.consume(peer, data),
  resumeConsumer: ({ room, peer }, data) => room.resumeConsumer(peer, data),
  pauseProducer: ({ room, peer }, { producerId }) => room.setProducerPaused(peer, producerId, true),
  resumeProducer: ({ room, peer }, { producerId }) => room.setProducerPaused(peer, producerId, false),
  closeProducer: ({ room, peer }, { producerId }) => room.closeProducer(peer, producerId),
  updateProducer: ({ room, peer }, { producerId, appData }) => room.updateProducer(peer, producerId, appData),
  removePeer: ({ room, peer }, { peerId }) => room.removePeer(peer, peerId),
  mutePeer: ({ room, peer }, { peerId, kind }) => room.mutePeer(peer, peerId, kind),
  lockRoom: ({ room, peer }, { locked }) => room.setLocked(peer, locked),
};
