// Serves the files of one folder, and nothing else: no dotfile (nor anything
// under a dot-folder), no file a symlink leads to outside the folder, no range.
//
// This replaces sirv, whose dev mode (needed so a client rebuild under a
// running server is served with fresh sizes) serves dotfiles and follows
// symlinks anywhere, and whose Range handling threw out of the listener
// (`bytes=500-100`). Every GET gets the whole file with a 200, as RFC 9110
// §14.2 allows ("a server MAY ignore the Range header field"); nothing the
// app loads asks for a range.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { lookup as mimeType } from 'mrmime';
import type { Logger } from '../log.ts';

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface StaticFilesOptions {
  root: string;
  /** Paths without a file extension that match no file get index.html (the client routes by query string). */
  singlePage?: boolean;
  /** Cache-Control for a file, by its path relative to the root ('assets/x.js'); default no-cache (revalidate by ETag). */
  cacheControl?: (relativePath: string) => string | undefined;
  log: Logger;
}

interface Found { file: string; relative: string; stats: fs.Stats }

export function staticFiles(opts: StaticFilesOptions): RequestListener {
  const root = fs.realpathSync(opts.root);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const segments = pathSegments(req.url ?? '/');
    if (!segments) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('malformed path\n');
      return;
    }
    const last = segments.at(-1) ?? '';
    const found = findFile(root, segments)
      ?? (opts.singlePage && !last.includes('.') ? findFile(root, ['index.html']) : undefined);
    if (!found) {
      res.writeHead(404).end();
      return;
    }
    send(req, res, found, opts);
  };
}

/**
 * The URL's path as decoded segments, or undefined when it is malformed or
 * names a dotfile: '..' is a dot-segment too, so no path climbs out.
 */
export function pathSegments(url: string): string[] | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url, 'http://localhost').pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  return segments;
}

function findFile(root: string, segments: string[]): Found | undefined {
  for (const candidate of [segments, [...segments, 'index.html']]) {
    let file: string;
    try {
      // realpath resolves every symlink on the way; the result must still be inside the root.
      file = fs.realpathSync(path.join(root, ...candidate));
    } catch {
      continue;
    }
    if (!file.startsWith(root + path.sep)) continue;
    const relative = file.slice(root.length + 1);
    if (relative.split(path.sep).some((s) => s.startsWith('.'))) continue;
    const stats = fs.statSync(file, { throwIfNoEntry: false });
    if (stats?.isFile()) return { file, relative, stats };
  }
  return undefined;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, { file, relative, stats }: Found, opts: StaticFilesOptions): void {
  const etag = `W/"${stats.size}-${stats.mtime.getTime()}"`;
  let type = mimeType(file) ?? 'application/octet-stream';
  if (type === 'text/html') type += '; charset=utf-8';
  const headers = {
    'Content-Type': type,
    'Content-Length': stats.size,
    'Last-Modified': stats.mtime.toUTCString(),
    ETag: etag,
    'Cache-Control': opts.cacheControl?.(relative.split(path.sep).join('/')) ?? 'no-cache',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': headers['Cache-Control'] }).end();
    return;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, headers).end();
    return;
  }
  const stream = fs.createReadStream(file);
  // A file that vanishes or can't be read after the stat (a client rebuild
  // under a running server) fails here, not out of the process.
  stream.once('error', (err) => {
    opts.log.warn({ url: req.url, err }, 'static file could not be served');
    // Once the headers are out, only a cut connection tells the client the body is short.
    if (res.headersSent) res.destroy();
    else res.writeHead(500).end();
  });
  stream.once('open', () => {
    res.writeHead(200, headers);
    stream.pipe(res);
  });
  // A client that hangs up leaves the file open otherwise: pipe() only unpipes.
  res.once('close', () => stream.destroy());
}
