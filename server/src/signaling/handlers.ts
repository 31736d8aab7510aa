// One small function per request. Each gets a validated payload and the
// connection it came from; room state changes stay inside Room.
import type { RequestData, RequestName, Responses } from '@guise/shared';
import { RequestError } from '../errors.ts';
import type { Connection } from './Connection.ts';

type Handler<N extends RequestName> = (conn: Connection, data: RequestData<N>) => Promise<Responses[N]> | Responses[N];
const none = {} as Record<string, never>;

export const handlers: { [N in RequestName]: Handler<N> } = {
  join: (conn, data) => conn.join(data.room, data.displayName),
  createTransport: (conn, data) => conn.joined().room.createTransport(conn.joined().peer, data),
  connectTransport: async (conn, data) => {
    const { room, peer } = conn.joined();
    await room.connectTransport(peer, data);
    return none;
  },
  produce: (conn, data) => conn.joined().room.produce(conn.joined().peer, data),
  consume: (conn, data) => conn.joined().room.consume(conn.joined().peer, data),
  resumeConsumer: async (conn, data) => {
    const { room, peer } = conn.joined();
    await room.resumeConsumer(peer, data);
    return none;
  },
  pauseProducer: async (conn, { producerId }) => {
    const { room, peer } = conn.joined();
    await room.setProducerPaused(peer, producerId, true);
    return none;
  },
  resumeProducer: async (conn, { producerId }) => {
    const { room, peer } = conn.joined();
    await room.setProducerPaused(peer, producerId, false);
    return none;
  },
  closeProducer: (conn, { producerId }) => {
    const { room, peer } = conn.joined();
    room.closeProducer(peer, producerId);
    return none;
  },
  updateProducer: (conn, { producerId, appData }) => {
    const { room, peer } = conn.joined();
    room.updateProducer(peer, producerId, appData);
    return none;
  },
  leave: (conn) => {
    if (!conn.leave()) throw new RequestError('not_joined', 'not in a room');
    return none;
  },
};
