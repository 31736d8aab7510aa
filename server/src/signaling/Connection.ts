// The signaling edge for one socket: validate, dispatch to a handler, answer
// with an ack. Nothing a client sends can throw out of here.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import { type Ack, type ErrorCode, isRequestName, requests } from '@guise/shared';
import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { handlers } from './handlers.ts';

type AckFn = (ack: Ack<unknown>) => void;

export class Connection {
  private membership: { room: Room; peer: Peer; offClose: () => void } | undefined;
  private joining = false;
  private disconnected = false;

  constructor(private readonly socket: Socket, private readonly rooms: RoomRegistry, private readonly log: Logger) {
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
      void this.dispatch(event, args).then((reply) => {
        if (ack) ack(reply);
        else if (!reply.ok) this.log.debug({ event: String(event).slice(0, 40), err: reply.error }, 'request without ack failed');
      });
    });
    socket.on('disconnect', () => {
      this.disconnected = true;
      this.leave();
    });
  }

  /** The caller's room and peer, or a not_joined error. */
  joined(): { room: Room; peer: Peer } {
    if (!this.membership || this.membership.room.isClosed) throw new RequestError('not_joined', 'join a room first');
    return this.membership;
  }

  async join(roomId: string, displayName: string) {
    if (this.joining || (this.membership && !this.membership.room.isClosed)) {
      throw new RequestError('already_joined', 'already in a room; leave first');
    }
    this.joining = true;
    try {
      const room = await this.rooms.getOrCreate(roomId);
      if (this.disconnected) {
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
  leave(): boolean {
    const m = this.membership;
    this.membership = undefined;
    if (!m) return false;
    m.offClose();
    m.room.leave(m.peer);
    return true;
  }

  private async dispatch(event: unknown, args: unknown[]): Promise<Ack<unknown>> {
    if (!isRequestName(event)) return fail('unknown_request', `unknown request ${JSON.stringify(String(event).slice(0, 40))}`);
    if (args.length !== 1) return fail('bad_request', `${event} takes exactly one payload object`);
    const parsed = requests[event].safeParse(args[0]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail('bad_request', `${event}: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid'}`);
    }
    try {
      // The handler table is keyed by the same names as the schema table.
      const handler = handlers[event] as (c: Connection, d: unknown) => unknown;
      return { ok: true, data: await handler(this, parsed.data) };
    } catch (err) {
      return this.toFailure(event, err);
    }
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
