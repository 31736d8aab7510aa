// HTTP(S): the built client, /healthz, /metrics, WHIP and WHEP, and the socket.io endpoint.
// Every response carries the security headers; no request can end the process.
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Config } from './config.ts';
import { inRequestScope } from './http/requestScope.ts';
import { setSecurityHeaders } from './http/securityHeaders.ts';
import { type RequestListener, staticFiles } from './http/staticFiles.ts';
import type { Logger } from './log.ts';
import { handleWebRtcHttp, parseWebRtcPath, type WebRtcHttpContext } from './webrtcHttp/routes.ts';

/** What /healthz reports; `ok: false` answers 503. */
export interface Health { ok: boolean; [key: string]: unknown }
export type HealthProbe = () => Health | Promise<Health>;
/** The Prometheus text and its content type. */
export type MetricsProbe = () => Promise<{ contentType: string; body: string }>;
/** Cluster mode: the nodes and every node's rooms, and closing a room wherever it lives. */
export interface ClusterProbe { list(): Promise<unknown>; closeRoom(id: string): Promise<void> }

export function createHttpServer(
  config: Config,
  probes: { health: HealthProbe; metrics?: MetricsProbe; webRtc?: WebRtcHttpContext; cluster?: ClusterProbe },
  log: Logger,
  /** Other origins the page may connect to (a cluster's nodes), read per response. */
  connectOrigins: () => readonly string[] = () => [],
): http.Server {
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
    setSecurityHeaders(res, connectOrigins());
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (pathname === '/healthz') {
      const report = await probes.health();
      res.writeHead(report.ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify(report));
      return;
    }
    if (pathname === '/metrics' && probes.metrics) {
      if (!metricsAllowed(req, config.metricsToken)) {
        res.writeHead(403, { 'Content-Type': 'text/plain' })
          .end('metrics are for this machine, or for a request with "Authorization: Bearer <METRICS_TOKEN>"\n');
        return;
      }
      const { contentType, body } = await probes.metrics();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (probes.cluster && (pathname === '/cluster' || pathname.startsWith('/cluster/'))) {
      await clusterRoute(req, res, pathname, probes.cluster, config.metricsToken);
      return;
    }
    const webRtcRoute = probes.webRtc && parseWebRtcPath(pathname ?? '/');
    if (webRtcRoute) {
      await handleWebRtcHttp(probes.webRtc!, webRtcRoute)(req, res);
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
 * GET /cluster lists the nodes and every node's rooms; POST
 * /cluster/rooms/NAME/close closes that room on whichever node holds it.
 * Both are for the operator, as /metrics is; a POST that names an Origin
 * came from a web page (a forged form), so it is refused.
 */
async function clusterRoute(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, cluster: ClusterProbe, token: string | undefined) {
  const json = (status: number, body: unknown) =>
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
  if (!metricsAllowed(req, token)) { json(403, { error: 'for this machine, or a request with "Authorization: Bearer <METRICS_TOKEN>"' }); return; }
  if (pathname === '/cluster' && req.method === 'GET') { json(200, await cluster.list()); return; }
  const close = /^\/cluster\/rooms\/([A-Za-z0-9_-]{1,64})\/close$/.exec(pathname);
  if (close && req.method === 'POST') {
    if (req.headers.origin !== undefined) { json(403, { error: 'not from a web page' }); return; }
    await cluster.closeRoom(close[1]!);
    json(200, { closed: close[1] });
    return;
  }
  json(404, { error: 'GET /cluster, or POST /cluster/rooms/NAME/close' });
}

/** Room and peer counts are not for everyone: a bearer token when one is set, else only from loopback. */
function metricsAllowed(req: http.IncomingMessage, token: string | undefined): boolean {
  if (token) {
    const given = Buffer.from(req.headers.authorization ?? '');
    const wanted = Buffer.from(`Bearer ${token}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }
  const ip = req.socket.remoteAddress ?? '';
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
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
