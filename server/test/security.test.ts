// Security findings (issue 12), each reproduced as the request that used to
// succeed against the real server; each must now be refused, with the server
// still up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '@guise/shared';
import type { App } from '../src/app.ts';
import { JoinTokens } from '../src/auth/joinTokens.ts';
import { joinWithMedia, opusRtpParameters, type ServerProcess, startServerProcess, startTestApp, TestClient } from './helpers.ts';

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

  it('warns at start-up that rooms are open when GUISE_AUTH_SECRET is unset', () => {
    expect(server.output()).toMatch(/"level":40,.*GUISE_AUTH_SECRET is unset: every room is open/);
  });

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

const AUTH_SECRET = 'test-secret-that-is-long-enough-for-hs256!';
const grantsAll = { canPublish: true, canSubscribe: true, roomAdmin: false };

/** A signed token for `room`, made by the server's own signer. */
function token(room: string, opts: { name?: string; grants?: Partial<typeof grantsAll>; ttlSeconds?: number; secret?: string; now?: () => number } = {}) {
  return new JoinTokens(opts.secret ?? AUTH_SECRET, opts.now)
    .sign({ room, name: opts.name, grants: { ...grantsAll, ...opts.grants }, ttlSeconds: opts.ttlSeconds ?? 3600 })
    .then((t) => t.token);
}

function vp8RtpParameters(ssrc: number) {
  return {
    mid: '1',
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `video-${ssrc}`, reducedSize: true },
  };
}

describe('join tokens and grants (GUISE_AUTH_SECRET set)', () => {
  let app: App;
  const clients: TestClient[] = [];
  const client = async () => { const c = await TestClient.connect(app.url); clients.push(c); return c; };
  beforeAll(async () => { app = await startTestApp(1, { GUISE_AUTH_SECRET: AUTH_SECRET }); });
  afterEach(() => { for (const c of clients.splice(0)) c.close(); });
  afterAll(() => app.close());

  it('refuses a join without a valid token for that room, saying why', async () => {
    const c = await client();
    const join = (t?: string) => c.raw('join', { room: 'locked', displayName: 'Mallory', ...(t === undefined ? {} : { token: t }) });
    expect(await join()).toEqual({ ok: false, error: { code: 'unauthorized', message: expect.stringMatching(/needs a join token/) } });
    expect(await join(await token('other-room'))).toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'the token is for another room' } });
    expect(await join(await token('locked', { secret: 'another-secret-another-secret-another!!' })))
      .toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'the token\'s signature does not match this server' } });
    const past = () => Date.now() - 2 * 3600_000;
    expect(await join(await token('locked', { now: past }))).toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'the token has expired' } });
    const future = () => Date.now() + 3600_000;
    expect(await join(await token('locked', { now: future }))).toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'the token is not valid yet' } });
    // An unsigned token ("alg": "none") claiming the room.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ room: 'locked', grants: { ...grantsAll, roomAdmin: true }, nbf: now, exp: now + 60 })}.`;
    expect(await join(unsigned)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    // A real token for another room, its payload rewritten to name this one, the signature kept.
    const [header, , signature] = (await token('other-room')).split('.');
    const tampered = `${header}.${b64({ room: 'locked', grants: grantsAll, nbf: now, exp: now + 60 })}.${signature}`;
    expect(await join(tampered)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'the token\'s signature does not match this server' } });
    expect(await join('not a token')).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(app.rooms.get('locked')).toBeUndefined();
  });

  it('admits a valid token with its grants, and holds a named token to its name', async () => {
    const c = await client();
    expect(await c.raw('join', { room: 'named', displayName: 'Mallory', token: await token('named', { name: 'Ada' }) }))
      .toMatchObject({ ok: false, error: { code: 'forbidden', message: 'this token is for "Ada"; join with that name' } });
    const joined = await c.request('join', { room: 'named', displayName: 'ada', token: await token('named', { name: 'Ada' }) });
    expect(joined.grants).toEqual(grantsAll);
  });

  it('enforces canPublish and canSubscribe in the transport, produce and consume handlers', async () => {
    const alice = await client();
    const a = await joinWithMedia(alice, 'grants', 'Alice', 1111, await token('grants'));
    const viewer = await client();
    await viewer.request('join', { room: 'grants', displayName: 'Viewer', token: await token('grants', { grants: { canPublish: false } }) });
    expect(await viewer.raw('createTransport', { direction: 'send' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await viewer.raw('produce', { transportId: a.send.id, kind: 'audio', rtpParameters: opusRtpParameters(2), appData: { source: 'mic', synthetic: false } }))
      .toMatchObject({ ok: false, error: { code: 'forbidden', message: 'your token does not allow publishing' } });
    const recv = await viewer.request('createTransport', { direction: 'recv' });
    const caps = a.joined.rtpCapabilities;
    expect((await viewer.request('consume', { transportId: recv.id, producerId: a.producerId, rtpCapabilities: caps })).producerId).toBe(a.producerId);

    const deaf = await client();
    await deaf.request('join', { room: 'grants', displayName: 'Deaf', token: await token('grants', { grants: { canSubscribe: false } }) });
    expect(await deaf.raw('createTransport', { direction: 'recv' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await deaf.raw('consume', { transportId: a.recv.id, producerId: a.producerId, rtpCapabilities: caps }))
      .toMatchObject({ ok: false, error: { code: 'forbidden', message: 'your token does not allow receiving' } });
  });

  it('lets only a room admin mint a guest invite, which admits a guest but not as admin', async () => {
    const admin = await client();
    await admin.request('join', { room: 'invites', displayName: 'Host', token: await token('invites', { name: 'Host', grants: { roomAdmin: true } }) });
    const invite = await admin.request('createInvite', { ttlSeconds: 600 });
    expect(invite.url).toBe(`${app.url}/?room=invites&token=${invite.token}`);
    expect(invite.expiresAt).toBeGreaterThan(Date.now());
    const guest = await client();
    const joined = await guest.request('join', { room: 'invites', displayName: 'Guest', token: invite.token });
    expect(joined.grants).toEqual(grantsAll);
    expect(await guest.raw('createInvite', {})).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'only a room admin can create invites' } });
    const elsewhere = await client();
    expect(await elsewhere.raw('join', { room: 'other', displayName: 'Guest', token: invite.token })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });
});

describe('names, budgets and limits (open rooms)', () => {
  let app: App;
  const clients: TestClient[] = [];
  const client = async (headers?: Record<string, string>) => { const c = await TestClient.connect(app.url, headers); clients.push(c); return c; };
  beforeAll(async () => { app = await startTestApp(1, { MAX_CONNECTIONS_PER_IP: '6' }); });
  afterEach(() => { for (const c of clients.splice(0)) c.close(); });
  afterAll(() => app.close());

  it('keeps names in a room unique (lookalikes included) and free of invisible characters', async () => {
    const ada = await client();
    await ada.request('join', { room: 'names', displayName: 'Ada' });
    for (const name of ['Ada', 'ADA', 'Ａｄａ', ' Ada ']) {
      const c = await client();
      expect(await c.raw('join', { room: 'names', displayName: name }), name).toMatchObject({ ok: false, error: { code: 'name_taken' } });
      c.close();
    }
    const c = await client();
    expect(await c.raw('join', { room: 'names', displayName: 'Ada\u202Egnp.exe' }))
      .toEqual({ ok: false, error: { code: 'bad_request', message: 'join: displayName: name contains an invisible or control character (U+202E)' } });
    expect(await c.raw('join', { room: 'names', displayName: 'A\u200Bda' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const joined = await c.request('join', { room: 'names', displayName: 'Jose\u0301' });
    expect(joined.peers).toEqual([expect.objectContaining({ displayName: 'Ada' })]);
    expect(await ada.next('peerJoined')).toMatchObject({ displayName: 'José' });
  });

  it('gives a peer one consumer per producer', async () => {
    const alice = await client();
    const bob = await client();
    const a = await joinWithMedia(alice, 'one-consumer', 'Alice', 3333);
    const b = await joinWithMedia(bob, 'one-consumer', 'Bob');
    const consume = () => bob.raw('consume', { transportId: b.recv.id, producerId: a.producerId, rtpCapabilities: b.joined.rtpCapabilities });
    const [first, second] = await Promise.all([consume(), consume()]);
    expect([first!.ok, second!.ok].sort()).toEqual([false, true]);
    expect([first, second].find((x) => !x!.ok)).toMatchObject({ ok: false, error: { code: 'limit_reached', message: `you already receive producer ${a.producerId}` } });
    expect(await consume()).toMatchObject({ ok: false, error: { code: 'limit_reached' } });
  });

  it('lets one connection join at most 16 distinct rooms', async () => {
    const c = await client();
    for (let i = 0; i < 16; i++) {
      await c.request('join', { room: `sweep-${i}`, displayName: 'Sweeper' });
      await c.request('leave', {});
    }
    // The same room again is fine; a new one is not.
    await c.request('join', { room: 'sweep-0', displayName: 'Sweeper' });
    await c.request('leave', {});
    expect(await c.raw('join', { room: 'sweep-16', displayName: 'Sweeper' })).toMatchObject({ ok: false, error: { code: 'limit_reached' } });
  });

  it('refuses connections past the per-address cap, and from another origin', async () => {
    for (let i = 0; i < 6; i++) await client();
    await expect(TestClient.connect(app.url)).rejects.toThrow(/too many connections from your address/);
    clients.pop()!.close();
    // The server sees the close a moment later; then there is room for one more.
    while (!(await TestClient.connect(app.url).then((c) => { clients.push(c); return true; }, () => false))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const c of clients.splice(0)) c.close();

    await expect(TestClient.connect(app.url, { Origin: 'https://evil.example' })).rejects.toThrow();
    const own = await client({ Origin: app.url });
    expect(own.socket.connected).toBe(true);
  });

  it('rate-limits a flood of messages with rate_limited, and the connection survives', async () => {
    const c = await client();
    const acks = await Promise.all(Array.from({ length: 1000 }, () => c.raw('leave', {})));
    const limited = acks.filter((a) => !a.ok && a.error.code === 'rate_limited').length;
    expect(limited).toBeGreaterThan(0);
    expect(acks.filter((a) => !a.ok && a.error.code === 'not_joined').length).toBe(1000 - limited);
    expect(c.socket.connected).toBe(true);
    // Once the bucket refills, requests go through again on the same connection.
    let ack = await c.raw('join', { room: 'after-flood', displayName: 'Flooder' });
    while (!ack.ok && ack.error.code === 'rate_limited') {
      await new Promise((r) => setTimeout(r, 50));
      ack = await c.raw('join', { room: 'after-flood', displayName: 'Flooder' });
    }
    expect(ack.ok).toBe(true);
  });

  it('rate-limits 1,000 join/leave cycles on one connection', async () => {
    const c = await client();
    let cycles = 0;
    let limited: Ack<unknown> | undefined;
    for (; cycles < 1000 && !limited; cycles++) {
      for (const ack of [await c.raw('join', { room: 'churn', displayName: 'Churn' }), await c.raw('leave', {})]) {
        if (!ack.ok) limited = ack;
      }
    }
    expect(limited).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(c.socket.connected).toBe(true);
    console.info(`join/leave cycles before the first rate_limited answer: ${cycles}`);
  });

  it('refuses ssrc 0, payload types outside 0-127 and a CNAME over 255 characters', async () => {
    const c = await client();
    const { send } = await joinWithMedia(c, 'rtp-checks', 'Rtp');
    const produce = (rtpParameters: object) => c.raw('produce', { transportId: send.id, kind: 'audio', rtpParameters, appData: { source: 'mic', synthetic: false } });
    const rtp = opusRtpParameters(5);
    expect(await produce({ ...rtp, encodings: [{ ssrc: 0 }] })).toEqual({ ok: false, error: { code: 'bad_request', message: 'produce: ssrc 0 is not allowed' } });
    expect(await produce({ ...rtp, codecs: [{ ...rtp.codecs[0], payloadType: 300 }] })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await produce({ ...rtp, rtcp: { cname: 'x'.repeat(10_000), reducedSize: true } }))
      .toEqual({ ok: false, error: { code: 'bad_request', message: 'produce: RTCP CNAME is longer than 255 characters' } });
    expect((await produce(rtp)).ok).toBe(true);
  });

  it('requires every video producer to be the camera, declaring synthetic, and stamps disclosure changes', async () => {
    const alice = await client();
    const bob = await client();
    const a = await joinWithMedia(alice, 'disclosure', 'Alice');
    await joinWithMedia(bob, 'disclosure', 'Bob');
    // A video producer posing as a mic would dodge the synthetic-video badge.
    expect(await alice.raw('produce', { transportId: a.send.id, kind: 'video', rtpParameters: vp8RtpParameters(7), appData: { source: 'mic', synthetic: false } }))
      .toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/appData\.source/) } });
    expect(await alice.raw('produce', { transportId: a.send.id, kind: 'video', rtpParameters: vp8RtpParameters(7), appData: { source: 'camera' } }))
      .toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/synthetic/) } });
    const { producerId } = await alice.request('produce', {
      transportId: a.send.id, kind: 'video', rtpParameters: vp8RtpParameters(7), appData: { source: 'camera', synthetic: true, identityLabel: 'Astronaut' },
    });
    const before = Date.now();
    await alice.request('updateProducer', { producerId, appData: { source: 'camera', synthetic: false } });
    const update = await bob.next('producerUpdated');
    expect(update).toMatchObject({ producerId, appData: { source: 'camera', synthetic: false } });
    expect(update.at).toBeGreaterThanOrEqual(before);
    expect(update.at).toBeLessThanOrEqual(Date.now());
  });
});

describe('idle connections', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(1, { IDLE_TIMEOUT_S: '0.3' }); });
  afterAll(() => app.close());

  it('closes a connection that joins nothing and stays silent, but not one in a room', async () => {
    const member = await TestClient.connect(app.url);
    await member.request('join', { room: 'idle', displayName: 'Member' });
    const silent = await TestClient.connect(app.url);
    await new Promise<void>((resolve) => silent.socket.once('disconnect', () => resolve()));
    expect(member.socket.connected).toBe(true);
    member.close();
  });
});

describe('a media worker that stops answering', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(1, { MEDIA_TIMEOUT_MS: '1000' }); });
  afterAll(() => app.close());

  it('fails the join with media_timeout, reports the worker dead, and a retry works with no ghost left', async () => {
    const pid = app.pool.pids[0]!;
    const c = await TestClient.connect(app.url);
    process.kill(pid, 'SIGSTOP');
    try {
      expect(await c.raw('join', { room: 'stalled', displayName: 'Ada' })).toMatchObject({ ok: false, error: { code: 'media_timeout' } });
      const health = await fetch(`${app.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ ok: false, workers: [{ pid, alive: false }] });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Not already_joined: the failed join left nothing behind.
    const joined = await c.request('join', { room: 'stalled', displayName: 'Ada' });
    expect(joined.peers).toEqual([]);
    const other = await TestClient.connect(app.url);
    expect((await other.request('join', { room: 'stalled', displayName: 'Bob' })).peers.map((p) => p.displayName)).toEqual(['Ada']);
    expect([...app.rooms.all].map((r) => r.id)).toEqual(['stalled']);
    const health = await fetch(`${app.url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, workers: [{ pid, alive: true }] });
    c.close();
    other.close();
  });
});

describe('/healthz and /metrics', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(1, { METRICS_TOKEN: 'scrape-me' }); });
  afterAll(() => app.close());

  it('/healthz does not publish the room count; /metrics counts rooms, peers, media objects and worker usage behind its token', async () => {
    const alice = await TestClient.connect(app.url);
    const bob = await TestClient.connect(app.url);
    const a = await joinWithMedia(alice, 'metered', 'Alice', 4444);
    const b = await joinWithMedia(bob, 'metered', 'Bob');
    await bob.request('consume', { transportId: b.recv.id, producerId: a.producerId, rtpCapabilities: b.joined.rtpCapabilities });

    const health = await (await fetch(`${app.url}/healthz`)).json() as Record<string, unknown>;
    expect(Object.keys(health).sort()).toEqual(['ok', 'workers']);

    expect((await fetch(`${app.url}/metrics`)).status).toBe(403);
    expect((await fetch(`${app.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token' } })).status).toBe(403);
    const res = await fetch(`${app.url}/metrics`, { headers: { Authorization: 'Bearer scrape-me' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const pid = app.pool.pids[0];
    expect(text).toMatch(/^guise_rooms 1$/m);
    expect(text).toMatch(/^guise_peers 2$/m);
    expect(text).toMatch(/^guise_producers\{kind="audio"\} 1$/m);
    expect(text).toMatch(/^guise_consumers\{kind="audio"\} 1$/m);
    expect(text).toMatch(new RegExp(`^guise_media_worker_up\\{pid="${pid}"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^guise_media_worker_cpu_seconds\\{pid="${pid}"\\} [0-9.e-]+$`, 'm'));
    expect(text).toMatch(new RegExp(`^guise_media_worker_max_rss_bytes\\{pid="${pid}"\\} [1-9][0-9]*$`, 'm'));
    alice.close();
    bob.close();
  });
});

describe('/metrics without METRICS_TOKEN', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(1, { HOST: '0.0.0.0' }); });
  afterAll(() => app.close());

  const external = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

  it('answers this machine (loopback)', async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^guise_rooms 0$/m);
  });

  it.runIf(external)('refuses a request from another address', async () => {
    const port = new URL(app.url).port;
    const res = await fetch(`http://${external}:${port}/metrics`);
    expect(res.status).toBe(403);
  });
});

// The CSP allows no inline script or style and no other origin: the built page must need none.
const builtClient = fileURLToPath(new URL('../../client/dist/', import.meta.url));
describe.runIf(fs.existsSync(path.join(builtClient, 'index.html')))('the built client under the CSP', () => {
  it('has no inline script, inline style or remote URL in index.html', () => {
    const html = fs.readFileSync(path.join(builtClient, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  // Only the app's own bundles: onnxruntime-web's WebGPU build (ort/*.jsep.mjs) holds one embind `new Function` (README, "HTTP").
  it('sets no style attribute from script (CSSOM only) and builds no code from strings in the app bundles', () => {
    const assets = path.join(builtClient, 'assets');
    for (const file of fs.readdirSync(assets).filter((f) => f.endsWith('.js'))) {
      const code = fs.readFileSync(path.join(assets, file), 'utf8');
      expect(code, file).not.toMatch(/setAttribute\(\s*[`'"]style[`'"]|\.cssText\s*=|new Function\(|\beval\(/);
    }
  });
});
