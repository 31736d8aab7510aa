// The signaling edge for one socket: rate-limit, validate, resolve who is
// asking, dispatch to a handler, answer with an ack. Nothing a client sends
// can throw out of here.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import { type Ack, type ErrorCode, isRequestName, type RequestData, type RequestName, requests, type Responses } from '@guise/shared';
import { GUEST_GRANTS, type Grants, OPEN_ROOM_GRANTS } from '../auth/joinClaims.ts';
import type { JoinTokens } from '../auth/joinTokens.ts';
import type { ClusterNode } from '../cluster/ClusterNode.ts';
import { type TurnConfig, turnCredentials } from '../auth/turnCredentials.ts';
import type { Limits } from '../config.ts';
import { RequestError } from '../errors.ts';
import { inRequestScope } from '../http/requestScope.ts';
import type { Logger } from '../log.ts';
import { normaliseDisplayName, nameKey } from '../rooms/displayName.ts';
import { Peer } from '../rooms/Peer.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { handlers, type Member } from './handlers.ts';
import { MAX_PAYLOAD_DEPTH, nestedDeeperThan } from './payloadDepth.ts';
import { TokenBucket } from './TokenBucket.ts';

type AckFn = (ack: Ack<unknown>) => void;

/** Distinct rooms one connection may join over its life: enough for any person, too few to sweep room names. */
export const MAX_ROOMS_PER_CONNECTION = 16;
const DEFAULT_INVITE_TTL_SECONDS = 24 * 3600;

/** What every connection shares. */
export interface SignalingContext {
  rooms: RoomRegistry;
  /** Undefined: rooms are open (no GUISE_AUTH_SECRET). */
  tokens: JoinTokens | undefined;
  /** Where invite links point: PUBLIC_URL, or the server's own address. */
  inviteBase: () => string;
  limits: Limits;
  /** Undefined: no TURN server; joins get no iceServers. */
  turn?: TurnConfig | undefined;
  /** Set in cluster mode (REDIS_URL): a join for a room held elsewhere is answered `moved`. */
  cluster?: ClusterNode | undefined;
}

export class Connection {
  private membership: (Member & { offClose: () => void }) | undefined;
  private joining = false;
  /** Aborted when the socket disconnects: a join still waiting for its room must not add a peer nobody can reach. */
  private readonly lifetime = new AbortController();
  private readonly bucket: TokenBucket;
  private readonly roomsJoined = new Set<string>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Socket, private readonly ctx: SignalingContext, private readonly log: Logger) {
    this.bucket = new TokenBucket(ctx.limits.signalBurst, ctx.limits.signalRatePerSecond);
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
      const what = String(event).slice(0, 40);
      this.armIdleTimer();
      inRequestScope({ kind: 'signaling', what }, () => {
        const reply = this.bucket.take()
          ? this.dispatch(event, args)
          : Promise.resolve(fail('rate_limited', 'too many messages; slow down and retry'));
        void reply.then((r) => {
          if (ack) ack(r);
          else if (!r.ok) this.log.debug({ event: what, err: r.error }, 'request without ack failed');
        });
      });
    });
    socket.on('disconnect', () => {
      clearTimeout(this.idleTimer);
      this.lifetime.abort();
      this.leave();
    });
    this.armIdleTimer();
  }

  /** A connection in no room that stays silent is closed; one in a call may be silent for hours. */
  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.membership || this.joining || this.lifetime.signal.aborted) return;
    this.idleTimer = setTimeout(() => {
      this.log.info('closing a connection that joined nothing and stayed silent');
      this.socket.disconnect(true);
    }, this.ctx.limits.idleTimeoutMs);
    this.idleTimer.unref();
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
    } finally {
      this.armIdleTimer();
    }
  }

  private async handle(name: RequestName, data: unknown): Promise<unknown> {
    switch (name) {
      case 'join':
        return this.join(data as RequestData<'join'>);
      case 'leave':
        if (!this.leave()) throw new RequestError('not_joined', 'not in a room');
        return {};
      case 'createInvite':
        return this.createInvite(data as RequestData<'createInvite'>);
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

  private async join({ room: roomId, displayName, token }: RequestData<'join'>): Promise<Responses['join']> {
    if (this.joining || (this.membership && !this.membership.room.isClosed)) {
      throw new RequestError('already_joined', 'already in a room; leave first');
    }
    this.joining = true;
    try {
      const checked = normaliseDisplayName(displayName);
      if (!checked.ok) throw new RequestError('bad_request', `join: displayName: ${checked.reason}`);
      const grants = await this.admit(roomId, checked.name, token);
      if (!this.roomsJoined.has(roomId) && this.roomsJoined.size >= MAX_ROOMS_PER_CONNECTION) {
        throw new RequestError('limit_reached', `one connection may join at most ${MAX_ROOMS_PER_CONNECTION} rooms; reconnect`);
      }
      const cluster = this.ctx.cluster;
      if (cluster) {
        const where = await cluster.place(roomId);
        if (!where.local) throw new RequestError('moved', 'this room is held by another node: connect there and send the same join', where.url);
      }
      const room = await this.ctx.rooms.getOrCreate(roomId);
      if (this.lifetime.signal.aborted) {
        if (room.peerCount === 0) room.close('empty');
        throw new RequestError('not_joined', 'disconnected while joining');
      }
      const peer = new Peer(randomUUID(), checked.name, (name, data) => this.socket.emit(name, data), grants);
      let response: Responses['join'];
      try {
        response = room.join(peer);
      } catch (err) {
        // A room this join created (and nobody else is in) goes away with the failed join.
        if (room.peerCount === 0) room.close('empty');
        throw err;
      }
      this.roomsJoined.add(roomId);
      // Credentials per peer and per join, so each expires on its own and names who used it in coturn's log.
      const turn = this.ctx.turn;
      if (turn) response.iceServers = [turnCredentials(turn, peer.id, Math.floor(Date.now() / 1000))];
      if (cluster) response.nodes = cluster.origins();
      // A room closed under us (worker died), or a room admin removing us, drops the membership so a rejoin works.
      const onClose = () => {
        if (this.membership?.peer !== peer) return;
        this.membership.offClose();
        this.membership = undefined;
        this.armIdleTimer();
      };
      const onRemoved = (removed: Peer) => { if (removed === peer) onClose(); };
      room.once('close', onClose);
      room.on('removed', onRemoved);
      this.membership = { room, peer, offClose: () => { room.off('close', onClose); room.off('removed', onRemoved); } };
      return response;
    } finally {
      this.joining = false;
    }
  }

  /** The grants for joining `room` as `name`: everything in an open room, else what a valid token says. */
  private async admit(room: string, name: string, token: string | undefined): Promise<Grants> {
    const tokens = this.ctx.tokens;
    if (!tokens) return OPEN_ROOM_GRANTS;
    if (!token) throw new RequestError('unauthorized', 'this server needs a join token: open the invite link you were sent');
    const claims = await tokens.verify(token, room);
    if (claims.name !== undefined && nameKey(claims.name) !== nameKey(name)) {
      throw new RequestError('forbidden', `this token is for "${claims.name}"; join with that name`);
    }
    return claims.grants;
  }

  private async createInvite({ ttlSeconds }: RequestData<'createInvite'>): Promise<Responses['createInvite']> {
    const { room, peer } = this.member();
    const tokens = this.ctx.tokens;
    if (!tokens) throw new RequestError('bad_request', 'this server has no GUISE_AUTH_SECRET: rooms are open, share the room link instead');
    if (!peer.grants.roomAdmin) throw new RequestError('forbidden', 'only a room admin can create invites');
    const { token, expiresAt } = await tokens.sign({ room: room.id, grants: GUEST_GRANTS, ttlSeconds: ttlSeconds ?? DEFAULT_INVITE_TTL_SECONDS });
    return { token, expiresAt, url: inviteUrl(this.ctx.inviteBase(), room.id, token) };
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
    if (err instanceof RequestError) return fail(err.code, err.message, err.location);
    // Anything else is our bug: log it in full, tell the client little.
    this.log.error({ event, err }, 'request failed');
    return fail('internal', 'internal server error');
  }
}

export function inviteUrl(base: string, room: string, token: string): string {
  return `${base}/?${new URLSearchParams({ room, token }).toString()}`;
}

function fail(code: ErrorCode, message: string, location?: string): Ack<never> {
  return { ok: false, error: location === undefined ? { code, message } : { code, message, location } };
}
