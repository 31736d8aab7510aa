// Headers every response carries. The page runs WebAssembly (MediaPipe,
// onnxruntime-web) in workers and loads nothing from another origin, so the
// policy allows exactly that: wasm compilation without eval, workers from the
// origin or a blob, and no remote origin anywhere.
import type http from 'node:http';

/**
 * 'self' in connect-src also covers ws:/wss: to the same host in CSP Level 3
 * browsers; listing bare ws:/wss: would open every host. data: and blob:
 * URLs are the page's own bytes (photo thumbnails, the favicon).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The policy with extra connect-src origins: in a cluster, the other nodes',
 * since a page served by one node may be sent to another for its room
 * over a WebSocket. An http: source does not match ws: URLs (only 'self'
 * does), so each origin goes in twice: http(s) and ws(s).
 */
export function contentSecurityPolicy(connectOrigins: readonly string[] = []): string {
  const extra = connectOrigins.filter((o) => /^https?:\/\/[^\s;,'/]+$/.test(o)).flatMap((o) => [o, o.replace(/^http/, 'ws')]);
  if (extra.length === 0) return CONTENT_SECURITY_POLICY;
  return CONTENT_SECURITY_POLICY.replace("connect-src 'self' blob: data:", `connect-src 'self' ${extra.join(' ')} blob: data:`);
}

export function setSecurityHeaders(res: http.ServerResponse, connectOrigins: readonly string[] = []): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(connectOrigins));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // For browsers that predate frame-ancestors.
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  // Cross-origin isolation unlocks SharedArrayBuffer, which threaded wasm needs.
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
}
