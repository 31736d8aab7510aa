// Security findings (issue 12), each reproduced as the request that used to
// succeed against the real server; each must now be refused, with the server
// still up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinWithMedia, opusRtpParameters, type ServerProcess, startServerProcess, TestClient } from './helpers.ts';

const SECRET = 'top secret, outside the served folders';

describe('HTTP edge (real server process)', () => {
  let dist: string;
  let models: string;
  let outside: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-dist-'));
    models = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-models-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Guise</title>');
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'assets', 'app.js'), 'export {};');
    fs.writeFileSync(path.join(dist, '.env'), `GUISE_AUTH_SECRET=${SECRET}`);
    fs.mkdirSync(path.join(dist, '.git'));
    fs.writeFileSync(path.join(dist, '.git', 'config'), SECRET);
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dist, 'assets', 'leak.js'));
    fs.symlinkSync(outside, path.join(dist, 'linked-folder'));
    fs.writeFileSync(path.join(models, 'manifest.json'), '{}');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(models, 'generator.onnx'));
    server = await startServerProcess({ CLIENT_DIST: dist, IDN_MODEL_DIR: models });
  });
  afterAll(async () => {
    await server?.stop();
    for (const d of [dist, models, outside]) fs.rmSync(d, { recursive: true, force: true });
  });

  async function get(url: string) {
    const res = await fetch(server.url + url);
    return { url, status: res.status, body: await res.text() };
  }

  it('serves no dotfile and nothing under a dot-folder', async () => {
    for (const url of ['/.env', '/.git/config', '/%2Eenv', '/assets/..%2F.env', '/.git/', '/assets/%2e%2e/.env']) {
      const res = await get(url);
      expect(res.body, url).not.toContain(SECRET);
      expect(res.status, url).toBeGreaterThanOrEqual(400);
    }
  });

  it('follows no symlink out of the client folder or IDN_MODEL_DIR', async () => {
    for (const url of ['/assets/leak.js', '/linked-folder/secret.txt', '/models/idn/generator.onnx']) {
      const res = await get(url);
      expect(res, url).toMatchObject({ status: 404 });
      expect(res.body).not.toContain(SECRET);
    }
    expect(await get('/models/idn/manifest.json')).toMatchObject({ status: 200, body: '{}' });
    expect(await get('/assets/app.js')).toMatchObject({ status: 200, body: 'export {};' });
  });

  it('sends a CSP fit for wasm in workers, with no remote origin, and the other security headers', async () => {
    for (const url of ['/', '/assets/app.js', '/healthz', '/no-such-file.js']) {
      const res = await fetch(server.url + url);
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
      expect(directives['script-src'], url).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      expect(directives['worker-src']).toEqual(["'self'", 'blob:']);
      expect(directives['frame-ancestors']).toEqual(["'none'"]);
      expect(directives['default-src']).toEqual(["'self'"]);
      expect(directives['style-src']).toEqual(["'self'"]);
      expect(csp).not.toMatch(/unsafe-inline|'unsafe-eval'|https?:|wss?:|\*/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    }
  });

  it('refuses a signaling payload nested thousands deep with a clear error, not a stack overflow', async () => {
    const c = await TestClient.connect(server.url);
    try {
      const { send } = await joinWithMedia(c, 'deep', 'Deep');
      // Sent as a raw socket.io frame: the client's own encoder would overflow first.
      const depth = 5000;
      const rtp = JSON.stringify(opusRtpParameters(77)).replace('"useinbandfec":1', `"deep":${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`);
      const payload = `{"transportId":${JSON.stringify(send.id)},"kind":"audio","appData":{"source":"mic","synthetic":false},"rtpParameters":${rtp}}`;
      const ack = await rawFrame(c, 'produce', payload);
      expect(ack).toEqual({ ok: false, error: { code: 'bad_request', message: 'produce: payload is nested deeper than 16 levels' } });
    } finally {
      c.close();
    }
    expect(server.child.exitCode).toBeNull();
  });
});

/** Emits `name` with an already-encoded JSON payload on the socket's engine, and waits for its ack. */
function rawFrame(client: TestClient, name: string, payloadJson: string): Promise<unknown> {
  const engine = client.socket.io.engine;
  const ackId = 900_000 + Math.floor(Math.random() * 1000);
  return new Promise((resolve) => {
    const onMessage = (data: unknown) => {
      const prefix = `3${ackId}`;
      if (typeof data !== 'string' || !data.startsWith(prefix)) return;
      engine.off('message', onMessage);
      resolve((JSON.parse(data.slice(prefix.length)) as unknown[])[0]);
    };
    engine.on('message', onMessage);
    engine.write(`2${ackId}[${JSON.stringify(name)},${payloadJson}]`);
  });
}

describe('the last-resort guards (a real child process)', () => {
  it('answers 500 for a throwing handler, logs an error a request raised later, and exits only for errors outside requests', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/scopedThrowServer.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let printed = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        printed += `${line}\n`;
        const m = /^PORT (\d+)$/.exec(line);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`fixture exited early:\n${printed}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/throw-now`)).status).toBe(500);
    expect((await fetch(`${url}/throw-later`)).status).toBe(200);
    // The timer's throw has happened by the time the log line is out.
    while (!printed.includes('thrown later, inside the request')) await new Promise((r) => setTimeout(r, 10));
    expect((await fetch(`${url}/still-up`)).status).toBe(200);
    expect(child.exitCode).toBeNull();

    child.stdin!.write('crash\n');
    expect(await exited).toBe(1);
    expect(printed).toContain('thrown outside any request');
  });
});
