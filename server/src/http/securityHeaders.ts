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

export function setSecurityHeaders(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // For browsers that predate frame-ancestors.
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  // Cross-origin isolation unlocks SharedArrayBuffer, which threaded wasm needs.
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
}
