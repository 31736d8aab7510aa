// Signed join tokens (JWT, HS256, via jose), LiveKit-style: a token names a
// room, optionally a person, and what its holder may do there.
import { errors, jwtVerify, SignJWT } from 'jose';
import { RequestError } from '../errors.ts';
import { checkJoinClaims, type Grants, type JoinClaims } from './joinClaims.ts';

/** HS256 is only as strong as its key: 32 bytes or more. */
export const MIN_SECRET_LENGTH = 32;

export interface TokenRequest { room: string; name?: string; grants: Grants; ttlSeconds: number }

export class JoinTokens {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly now: () => number = Date.now) {
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`GUISE_AUTH_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    this.key = new TextEncoder().encode(secret);
  }

  async sign({ room, name, grants, ttlSeconds }: TokenRequest): Promise<{ token: string; expiresAt: number }> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const exp = nowSeconds + ttlSeconds;
    const claims: Omit<JoinClaims, 'exp' | 'nbf'> = { room, grants, ...(name === undefined ? {} : { name }) };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  /** The token's claims for `room`, or an `unauthorized` RequestError saying what is wrong. */
  async verify(token: string, room: string): Promise<JoinClaims> {
    let payload: unknown;
    try {
      // Only HS256: a token may not pick its own algorithm ('none', or RS256 keyed by our secret).
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: new Date(this.now()) }));
    } catch (err) {
      throw new RequestError('unauthorized', describeJoseError(err));
    }
    const check = checkJoinClaims(payload, room, Math.floor(this.now() / 1000));
    if (!check.ok) throw new RequestError('unauthorized', check.reason);
    return check.claims;
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') return 'the token is not valid yet';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token\'s signature does not match this server';
  return 'the token is malformed or not signed by this server';
}
