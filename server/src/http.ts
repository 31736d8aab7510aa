// HTTP(S): the built client, /healthz, and the socket.io endpoint.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import sirv from 'sirv';
import type { Config } from './config.ts';

export type HealthProbe = () => Record<string, unknown>;

export function createHttpServer(config: Config, health: HealthProbe): http.Server {
  const serveClient = config.clientDist && fs.existsSync(config.clientDist)
    ? sirv(config.clientDist, {
      single: true, // the client routes by query string; every path gets index.html
      // Re-stat files per request: a client rebuild under a running server must
      // not be served with the old sizes (a truncated index.html).
      dev: true,
      etag: true,
      setHeaders: (res, path) => {
        if (path.startsWith('/assets/')) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      },
    })
    : undefined;

  const idnModel = config.idnModelDir ? sirv(config.idnModelDir, { dev: true }) : undefined;

  const handle: http.RequestListener = (req, res) => {
    // Cross-origin isolation unlocks SharedArrayBuffer, which threaded wasm needs.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, ...health() }));
      return;
    }
    if (idnModel && req.url?.startsWith('/models/idn/')) {
      req.url = req.url.slice('/models/idn'.length);
      idnModel(req, res, () => { res.writeHead(404).end(); });
      return;
    }
    if (!serveClient) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('client not built: run the README\'s run command\n');
      return;
    }
    serveClient(req, res, () => { res.writeHead(404).end(); });
  };

  return config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, handle)
    : http.createServer(handle);
}
