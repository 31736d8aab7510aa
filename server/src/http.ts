// HTTP(S): the built client, /healthz, and the socket.io endpoint.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import sirv, { type RequestHandler } from 'sirv';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export type HealthProbe = () => Record<string, unknown>;

export function createHttpServer(config: Config, health: HealthProbe, log: Logger): http.Server {
  const serveClient = config.clientDist && fs.existsSync(config.clientDist)
    ? guarded(sirv(config.clientDist, {
      single: true, // the client routes by query string; every path gets index.html
      // Re-stat files per request: a client rebuild under a running server must
      // not be served with the old sizes (a truncated index.html).
      dev: true,
      etag: true,
      setHeaders: (res, path) => {
        if (path.startsWith('/assets/')) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      },
    }), log)
    : undefined;

  const idnModel = config.idnModelDir ? guarded(sirv(config.idnModelDir, { dev: true }), log) : undefined;

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
      idnModel(req, res);
      return;
    }
    if (!serveClient) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('client not built: run the README\'s run command\n');
      return;
    }
    serveClient(req, res);
  };

  return config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, handle)
    : http.createServer(handle);
}

/**
 * Serves static files with sirv so that no request can end the process.
 *
 * sirv hands the numbers of a `Range` header straight to fs.createReadStream.
 * A start after the end (`bytes=500-100`) or an end past 2^53 makes that throw
 * out of the request listener, which kills the server and every call on it. A
 * suffix range (`bytes=-100`) reads the first bytes instead of the last, and
 * `bytes=0-0` sends the whole file. So this server offers no ranges: the Range
 * header is dropped and every GET gets the whole file with a 200, as RFC 9110
 * §14.2 allows ("a server MAY ignore the Range header field"). Nothing the app
 * loads asks for a range.
 *
 * sirv also pipes the file without listening for the stream's errors, so a file
 * that can't be read, or vanishes between stat and read (a client rebuild under
 * a running server), would throw from the stream. The `pipe` event hands the
 * stream over, so it gets a listener here.
 */
function guarded(serve: RequestHandler, log: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    delete req.headers.range;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      log.warn({ url: req.url, err }, 'static file could not be served');
      // Once the headers are out, only a cut connection tells the client the body is short.
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
    };
    res.once('pipe', (file: Readable) => {
      file.on('error', fail);
      // A client that hangs up leaves the file open otherwise: pipe() only unpipes.
      res.once('close', () => file.destroy());
    });
    try {
      serve(req, res, () => { res.writeHead(404).end(); });
    } catch (err) {
      fail(err);
    }
  };
}
