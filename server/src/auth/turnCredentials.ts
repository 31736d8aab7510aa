// Time-limited TURN credentials in coturn's REST scheme (`use-auth-secret`):
// the username is "<expiry, unix seconds>:<peer id>" and the password is
// base64(HMAC-SHA1(secret, username)). coturn recomputes the HMAC with the same
// shared secret and refuses an expired username, so nothing is stored per peer.
import { createHmac } from 'node:crypto';

export interface TurnConfig {
  /** turn: / turns: URLs, e.g. turn:turn.example.com:3478?transport=udp */
  urls: string[];
  /** coturn's static-auth-secret. */
  secret: string;
  ttlSeconds: number;
}

export interface IceServerCredentials { urls: string[]; username: string; credential: string }

export function turnCredentials(turn: TurnConfig, peerId: string, nowSeconds: number): IceServerCredentials {
  const username = `${nowSeconds + turn.ttlSeconds}:${peerId}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return { urls: turn.urls, username, credential };
}
