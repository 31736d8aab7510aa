// Reads a request body as UTF-8 text, refusing one larger than a limit
// (413) before or while it arrives, and one that stops arriving (408).
import type http from 'node:http';

export class BodyError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const BODY_TIMEOUT_MS = 10_000;

export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(new BodyError(413, `the body is larger than ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new BodyError(408, 'the body did not arrive in time')), BODY_TIMEOUT_MS);
    const fail = (err: BodyError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.resume(); // drain, so the response can still be sent
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(new BodyError(413, `the body is larger than ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    req.once('end', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
    req.once('error', () => fail(new BodyError(400, 'the body could not be read')));
  });
}
