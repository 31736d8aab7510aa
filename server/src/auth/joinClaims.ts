// What a join token grants, and the check of its claims: pure, no I/O. The
// signature is checked by joinTokens.ts before these claims are trusted.
import { z } from 'zod';
import { RoomId } from '@guise/shared';

export const Grants = z.strictObject({
  canPublish: z.boolean(),
  canSubscribe: z.boolean(),
  roomAdmin: z.boolean(),
});
export type Grants = z.infer<typeof Grants>;

/** Everything: what a peer gets when the server runs without GUISE_AUTH_SECRET. */
export const OPEN_ROOM_GRANTS: Grants = { canPublish: true, canSubscribe: true, roomAdmin: false };
/** An invite minted by a room admin: a full participant, not an admin. */
export const GUEST_GRANTS: Grants = { canPublish: true, canSubscribe: true, roomAdmin: false };

export const JoinClaims = z.object({
  room: RoomId,
  /** The only name the holder may join with, when present; a guest invite leaves it out. */
  name: z.string().min(1).max(100).optional(),
  grants: Grants,
  exp: z.number().int(),
  nbf: z.number().int(),
});
export type JoinClaims = z.infer<typeof JoinClaims>;

export type ClaimsCheck = { ok: true; claims: JoinClaims } | { ok: false; reason: string };

/** Whether `payload` admits its holder to `room` at `nowSeconds`. */
export function checkJoinClaims(payload: unknown, room: string, nowSeconds: number): ClaimsCheck {
  const parsed = JoinClaims.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `token claims are malformed (${issue ? `${issue.path.join('.') || 'claims'}: ${issue.message}` : 'invalid'})` };
  }
  const claims = parsed.data;
  if (claims.room !== room) return { ok: false, reason: 'the token is for another room' };
  if (nowSeconds < claims.nbf) return { ok: false, reason: 'the token is not valid yet' };
  if (nowSeconds >= claims.exp) return { ok: false, reason: 'the token has expired' };
  return { ok: true, claims };
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const MAX_TOKEN_TTL_SECONDS = 30 * 86400;

/** '90s', '15m', '6h', '2d' (or a plain number of seconds) → seconds; undefined when malformed or beyond 30 days. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNIT_SECONDS[(m[2] || 's') as keyof typeof UNIT_SECONDS];
  return seconds > 0 && seconds <= MAX_TOKEN_TTL_SECONDS ? seconds : undefined;
}
