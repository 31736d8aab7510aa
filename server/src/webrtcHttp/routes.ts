// The HTTP side of WHIP (RFC 9725) and WHEP:
//   POST   /whip/:room              application/sdp offer → 201, answer, Location
//   DELETE /whip/:room/:session     ends it
//   POST   /whep/:room/:peer        the same, receiving :peer's media
//   DELETE /whep/:room/:peer/:session
// Authorization: Bearer <join token> when the server has GUISE_AUTH_SECRET
// (canPublish for WHIP, canSubscribe for WHEP). Every failure is a status
// code the RFC names and a one-line text body saying why.
import type http from 'node:http';
import { RoomId } from '@guise/shared';
import { OPEN_ROOM_GRANTS, type Grants } from '../auth/joinClaims.ts';
import type { JoinTokens } from '../auth/joinTokens.ts';
import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { normaliseDisplayName } from '../rooms/displayName.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { BodyError, readBody } from './httpBody.ts';
import type { MediaSessions } from './MediaSessions.ts';
import { parseOffer, SdpError } from './sdpOffer.ts';

/** An SDP offer is a few kilobytes; anything much bigger is not one. */
export const MAX_OFFER_BYTES = 64 * 1024;

export interface WebRtcHttpContext {
  rooms: RoomRegistry;
  sessions: MediaSessions;
  tokens: JoinTokens | undefined;
  /** WHIP/WHEP sessions open at once from one address. */
  sessionsPerIp: number;
  log: Logger;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) { super(message); }
}

/** The route a path names, or undefined when it is not a WHIP/WHEP path. Pure. */
export function parseWebRtcPath(pathname: string): { kind: 'whip' | 'whep'; segments: string[] } | undefined {
  const segments = pathname.split('/').filter(Boolean);
  const kind = segments[0];
  if (kind !== 'whip' && kind !== 'whep') return undefined;
  try {
    return { kind, segments: segments.slice(1).map((s) => decodeURIComponent(s)) };
  } catch {
    return { kind, segments: ['\0'] }; // malformed escapes: no such resource
  }
}

/** Status code for a room-side refusal. Pure. */
export function statusFor(err: RequestError): number {
  switch (err.code) {
    case 'bad_request': case 'media_error': return 400;
    case 'unauthorized': return 401;
    case 'forbidden': case 'room_locked': return 403;
    case 'not_found': case 'not_joined': case 'room_closed': return 404;
    case 'name_taken': return 409;
    case 'rate_limited': return 429;
    case 'limit_reached': case 'media_timeout': return 503;
    default: return 500;
  }
}

export function handleWebRtcHttp(ctx: WebRtcHttpContext, route: { kind: 'whip' | 'whep'; segments: string[] }) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      await dispatch(ctx, route, req, res);
    } catch (err) {
      const e = err instanceof HttpError ? err
        : err instanceof RequestError ? new HttpError(statusFor(err), err.message)
          : err instanceof SdpError || err instanceof BodyError ? new HttpError(err instanceof BodyError ? err.status : 400, err.message)
            : undefined;
      if (!e) throw err; // our bug: the last-resort guard logs it and answers 500
      if (res.headersSent) { res.destroy(); return; }
      res.writeHead(e.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...e.headers }).end(`${e.message}\n`);
    }
  };
}

async function dispatch(ctx: WebRtcHttpContext, { kind, segments }: { kind: 'whip' | 'whep'; segments: string[] }, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // /whip/:room and /whep/:room/:peer are the endpoints; one more segment is a session.
  const endpointLength = kind === 'whip' ? 1 : 2;
  const room = segments[0] ?? '';
  if (!RoomId.safeParse(room).success || segments.length < endpointLength || segments.length > endpointLength + 1) {
    throw new HttpError(404, `no such ${kind.toUpperCase()} resource: use /${kind}/<room>${kind === 'whep' ? '/<participant name>' : ''}`);
  }
  if (segments.length === endpointLength + 1) {
    sessionResource(ctx, kind, room, segments.at(-1)!, req, res);
    return;
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { Allow: 'POST, OPTIONS' }).end();
    return;
  }
  if (req.method !== 'POST') throw new HttpError(405, `a ${kind.toUpperCase()} endpoint takes POST`, { Allow: 'POST, OPTIONS' });
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/sdp') throw new HttpError(415, 'the offer must be sent as Content-Type: application/sdp');
  const ip = req.socket.remoteAddress ?? '';
  if (ctx.sessions.countFrom(ip) >= ctx.sessionsPerIp) throw new HttpError(429, `too many WHIP/WHEP sessions from your address (at most ${ctx.sessionsPerIp})`);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const auth = await authorise(ctx, req, room);
  const offer = parseOffer(await readBody(req, MAX_OFFER_BYTES));

  let created: Awaited<ReturnType<MediaSessions['ingest']>>;
  if (kind === 'whip') {
    if (!auth.grants.canPublish) throw new HttpError(403, 'this token does not allow publishing');
    // The token's name wins; an open room takes ?name=, else a generic one.
    const checked = normaliseDisplayName(auth.name ?? url.searchParams.get('name') ?? 'WHIP');
    if (!checked.ok) throw new HttpError(400, `name: ${checked.reason}`);
    const target = await ctx.rooms.getOrCreate(room);
    try {
      created = await ctx.sessions.ingest(target, offer, { name: checked.name, grants: auth.grants, ip, synthetic: url.searchParams.get('synthetic') === '1' });
    } finally {
      if (target.peerCount === 0) target.close('empty');
    }
  } else {
    if (!auth.grants.canSubscribe) throw new HttpError(403, 'this token does not allow receiving');
    const target = ctx.rooms.get(room);
    const source = target && !target.isClosed ? target.memberNamed(segments[1]!) : undefined;
    if (!target || !source) throw new HttpError(404, `nobody called "${segments[1]!.slice(0, 40)}" is in room ${room} now`);
    created = await ctx.sessions.egress(target, source, offer, { grants: auth.grants, ip });
  }
  const location = `/${kind}/${[...segments, created.session.id].map(encodeURIComponent).join('/')}`;
  res.writeHead(201, {
    'Content-Type': 'application/sdp',
    Location: location,
    // Names this session's ICE parameters (RFC 9725 §4.3.1); there is no ICE restart, so it never changes.
    ETag: `"${created.session.id}"`,
    'Cache-Control': 'no-store',
    'Access-Control-Expose-Headers': 'Location, ETag',
  }).end(created.answer);
}

/** DELETE ends a session; trickled candidates (PATCH) are not needed by an ICE-lite server and are ignored. */
function sessionResource(ctx: WebRtcHttpContext, kind: 'whip' | 'whep', room: string, id: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const session = ctx.sessions.get(id);
  if (!session || session.kind !== kind || session.room.id !== room) throw new HttpError(404, `no ${kind.toUpperCase()} session ${id.slice(0, 64)}`);
  if (req.method === 'DELETE') {
    session.end('DELETE');
    res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
    return;
  }
  if (req.method === 'PATCH' && (req.headers['content-type'] ?? '').startsWith('application/trickle-ice-sdpfrag')) {
    req.resume();
    res.writeHead(204).end();
    return;
  }
  throw new HttpError(405, `a ${kind.toUpperCase()} session takes DELETE`, { Allow: 'DELETE, PATCH' });
}

async function authorise(ctx: WebRtcHttpContext, req: http.IncomingMessage, room: string): Promise<{ grants: Grants; name?: string }> {
  if (!ctx.tokens) return { grants: OPEN_ROOM_GRANTS };
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S{1,4096})$/i.exec(header);
  if (!m) throw new HttpError(401, 'this server needs a join token: send it as "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer' });
  let claims;
  try {
    claims = await ctx.tokens.verify(m[1]!, room);
  } catch (err) {
    if (err instanceof RequestError) throw new HttpError(401, err.message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    throw err;
  }
  return { grants: claims.grants, ...(claims.name === undefined ? {} : { name: claims.name }) };
}
