// Which pages may open a signaling connection. Pure.
//
// Browsers send Origin on every WebSocket handshake and on cross-origin
// requests, so a page on another site always names itself and is refused
// unless listed. A request without Origin is allowed: it is either a
// same-origin polling request (browsers may omit Origin on same-origin GETs)
// or a non-browser client (tests, bots), which could forge any Origin anyway;
// join tokens, not Origin, are what keep those out of a room.

export interface OriginPolicy {
  /** Exactly these origins (ALLOWED_ORIGINS); undefined: the server's own. */
  allowed: string[] | undefined;
  /** PUBLIC_URL's origin, counted as the server's own. */
  publicOrigin: string | undefined;
  tls: boolean;
  /** In a cluster: the nodes' origins (dead ones' too). A page one node served may be sent to another for its room. */
  clusterOrigins?: () => readonly string[];
}

export function originAllowed(origin: string | undefined, host: string | undefined, policy: OriginPolicy): boolean {
  if (origin === undefined) return true;
  // Nodes register themselves in Redis, which only the operator's machines can write: they are this app.
  if (policy.clusterOrigins?.().includes(origin)) return true;
  if (policy.allowed) return policy.allowed.includes(origin);
  if (origin === policy.publicOrigin) return true;
  return host !== undefined && origin === `${policy.tls ? 'https' : 'http'}://${host}`;
}
