// The signaling edge for one socket: validate, resolve who is asking, dispatch
// to a handler, answer with an ack. Nothing a client sends can throw out of here.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import { type Ack, type ErrorCode, isRequestName, type RequestData, type RequestName, requests } from '@guise/shared';
import { RequestError } from '../errors.ts';
import { inRequestScope } from '../http/requestScope.ts';
import type { Logger } from '../log.ts';
import { Peer } from '../rooms/Peer.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { handlers, type Member } from './handlers.ts';
import { MAX_PAYLOAD_DEPTH, nestedDeeperThan } from './payloadDepth.ts';

type AckFn = (ack: Ack<unknown>) => void;

export class Connection {
  private membership: (Member & { offClose: () => void }) | undefined;
  private joining = false;
  /** Aborted when the socket disconnects: a join still waiting for its room must not add a peer nobody can reach. */
  private readonly lifetime = new AbortController();

  constructor(private readonly socket: Socket, private readonly rooms: RoomRegistry, private readonly log: Logger) {
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
      const what = String(event).slice(0, 40);
      inRequestScope({ kind: 'signaling', what }, () => {
        void this.dispatch(event, args).then((reply) => {
          if (ack) ack(reply);
          else if (!reply.ok) this.log.debug({ event: what, err: reply.error }, 'request without ack failed');
        });
      });
    });
    socket.on('disconnect', () => {
      this.lifetime.abort();
      this.leave();
    });
  }

  private async dispatch(event: unknown, args: unknown[]): Promise<Ack<unknown>> {
    if (!isRequestName(event)) return fail('unknown_request', `unknown request ${JSON.stringify(String(event).slice(0, 40))}`);
    if (args.length !== 1) return fail('bad_request', `${event} takes exactly one payload object`);
    if (nestedDeeperThan(args[0], MAX_PAYLOAD_DEPTH)) {
      return fail('bad_request', `${event}: payload is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
    }
    const parsed = requests[event].safeParse(args[0]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail('bad_request', `${event}: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid'}`);
    }
    try {
      return { ok: true, data: await this.handle(event, parsed.data) };
    } catch (err) {
      return this.toFailure(event, err);
    }
  }

  private async handle(name: RequestName, data: unknown): Promise<unknown> {
    switch (name) {
      case 'join': {
        const { room, displayName } = data as RequestData<'join'>;
        return this.join(room, displayName);
      }
      case 'leave':
        if (!this.leave()) throw new RequestError('not_joined', 'not in a room');
        return {};
      default: {
        // The handler table is keyed by the same names as the schema table, so
        // `data` is what this handler takes.
        const handler = handlers[name] as (member: Member, data: unknown) => unknown;
        return (await handler(this.member(), data)) ?? {};
      }
    }
  }

  /** The caller's room and peer, or a not_joined error. */
  private member(): Member {
    if (!this.membership || this.membership.room.isClosed) throw new RequestError('not_joined', 'join a room first');
    return this.membership;
  }

  private async join(roomId: string, displayName: string) {
    if (this.joining || (this.membership && !this.membership.room.isClosed)) {
      throw new RequestError('already_joined', 'already in a room; leave first');
    }
    this.joining = true;
    try {
      const room = await this.rooms.getOrCreate(roomId);
      if (this.lifetime.signal.aborted) {
        if (room.peerCount === 0) room.close('empty');
        throw new RequestError('not_joined', 'disconnected while joining');
      }
      const peer = new Peer(randomUUID(), displayName, (name, data) => this.socket.emit(name, data));
      const response = room.join(peer);
      // A room closed under us (worker died) drops the membership so a rejoin works.
      const onClose = () => { if (this.membership?.peer === peer) this.membership = undefined; };
      room.once('close', onClose);
      this.membership = { room, peer, offClose: () => room.off('close', onClose) };
      return response;
    } finally {
      this.joining = false;
    }
  }

  /** Returns whether there was a room to leave. */
  private leave(): boolean {
    const m = this.membership;
    this.membership = undefined;
    if (!m) return false;
    m.offClose();
    m.room.leave(m.peer);
    return true;
  }

  private toFailure(event: string, err: unknown): Ack<never> {
    if (err instanceof RequestError) return fail(err.code, err.message);
    // Anything else is our bug: log it in full, tell the client little.
    this.log.error({ event, err }, 'request failed');
    return fail('internal', 'internal server error');
  }
}

function fail(code: ErrorCode, message: string): Ack<never> {
  return { ok: false, error: { code, message } };
}
