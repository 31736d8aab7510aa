// HTTP(S): the built client, /healthz, and the socket.io endpoint. Every
// response carries the security headers; no request can end the process.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Config } from './config.ts';
import { inRequestScope } from './http/requestScope.ts';
import { setSecurityHeaders } from './http/securityHeaders.ts';
import { type RequestListener, staticFiles } from './http/staticFiles.ts';
import type { Logger } from './log.ts';

/** What /healthz reports; `ok: false` answers 503. */
export interface Health { ok: boolean; [key: string]: unknown }
export type HealthProbe = () => Health | Promise<Health>;

export function createHttpServer(config: Config, health: HealthProbe, log: Logger): http.Server {
  const serveClient = config.clientDist && fs.existsSync(config.clientDist)
    ? staticFiles({
      root: config.clientDist,
      singlePage: true,
      cacheControl: (file) => (file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : undefined),
      log,
    })
    : undefined;

  const idnModel = config.idnModelDir ? staticFiles({ root: config.idnModelDir, log }) : undefined;

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    setSecurityHeaders(res);
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === '/healthz') {
      const report = await health();
      res.writeHead(report.ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify(report));
      return;
    }
    if (idnModel && req.url?.startsWith('/models/idn/')) {
      req.url = req.url.slice('/models/idn'.length);
      idnModel(req, res);
      return;
    }
    if (!serveClient) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('client not built: run the README\'s run command\n');
      return;
    }
    serveClient(req, res);
  };

  const handle = lastResortGuard(route, log);
  return config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, handle)
    : http.createServer(handle);
}

/**
 * Whatever a handler throws or rejects with becomes a 500 for that request
 * alone (or a cut connection, once the headers are out); the request runs in
 * a scope so an error it raises later is logged, not fatal (requestScope.ts).
 */
export function lastResortGuard(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown,
  log: Logger,
): RequestListener {
  return (req, res) => inRequestScope({ kind: 'http', what: `${req.method} ${req.url?.slice(0, 200)}` }, () => {
    const fail = (err: unknown) => {
      log.error({ url: req.url?.slice(0, 200), err }, 'request failed');
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal server error\n');
    };
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
}
