// Cluster mode against a real redis-server on loopback: nodes A and B in this
// process (each its own socket.io server and media worker), and nodes in
// their own processes where one has to be killed or sent SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../src/app.ts';
import { JoinTokens } from '../src/auth/joinTokens.ts';
import { loadConfig } from '../src/config.ts';
import { joinWithMedia, log, startRedis, startServerProcess, startTestApp, TestClient, type RedisProcess } from './helpers.ts';

const SECRET = 'cluster-test-secret-long-enough-for-hs256';
const TTL_S = '3';
const grants = { canPublish: true, canSubscribe: true, roomAdmin: false };
const token = (room: string) => new JoinTokens(SECRET).sign({ room, grants, ttlSeconds: 600 }).then((t) => t.token);

/** Polls `check` until it holds (no deadline of its own: the test's timeout bounds it). */
async function until(check: () => Promise<boolean> | boolean, everyMs = 100): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

interface Listing { node: string; draining: boolean; nodes: { id: string; peers: number; draining: boolean }[]; rooms: { id: string; node: string; peers: number }[] }
const listing = async (url: string): Promise<Listing> => (await fetch(`${url}/cluster`)).json() as Promise<Listing>;

describe('cluster mode (REDIS_URL): two nodes and a real Redis', () => {
  let redis: RedisProcess;
  let a: App;
  let b: App;
  const clients: TestClient[] = [];
  /** In r2 on B, for the cross-node close. */
  let gina: TestClient;
  const connect = async (app: { url: string }) => { const c = await TestClient.connect(app.url); clients.push(c); return c; };
  const join = async (c: TestClient, room: string, name: string) => c.raw('join', { room, displayName: name, token: await token(room) });

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, NODE_TTL_S: TTL_S, GUISE_AUTH_SECRET: SECRET };
    a = await startTestApp(1, { ...env, NODE_ID: 'node-a' });
    b = await startTestApp(1, { ...env, NODE_ID: 'node-b', NODE_CAPACITY: '2' });
    // Each has heard the other's heartbeat.
    await until(async () => (await listing(a.url)).nodes.length === 2 && (await listing(b.url)).nodes.length === 2);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('a join for a room another node holds is answered with that node\'s address, and the same join (same token) works there', async () => {
    const alice = await connect(a);
    // Nobody holds r1 and both nodes are idle: A keeps it (no redirect for the first joiner).
    expect(await join(alice, 'r1', 'Alice')).toMatchObject({ ok: true });
    const bobAtB = await connect(b);
    // No token, no redirect: where a room lives is not told to strangers.
    expect(await bobAtB.raw('join', { room: 'r1', displayName: 'Bob' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const moved = await join(bobAtB, 'r1', 'Bob');
    expect(moved).toEqual({ ok: false, error: { code: 'moved', message: expect.any(String), location: a.url } });
    const bobAtA = await connect({ url: (moved as { error: { location: string } }).error.location });
    const joined = await bobAtA.request('join', { room: 'r1', displayName: 'Bob', token: await token('r1') });
    expect(joined.peers.map((p) => p.displayName)).toEqual(['Alice']);
    // The answer names every live node, for reaching the room again if this one goes.
    expect(joined.nodes).toEqual(expect.arrayContaining([a.url, b.url]));
  });

  it('a second room goes to the less-loaded node, and a full node (NODE_CAPACITY) takes no new rooms but still takes joins to its own', async () => {
    const carol = await connect(a);
    // A holds two peers, B none: the new room is claimed for B and Carol is sent there.
    expect(await join(carol, 'r2', 'Carol')).toMatchObject({ ok: false, error: { code: 'moved', location: b.url } });
    const carolAtB = await connect(b);
    expect(await join(carolAtB, 'r2', 'Carol')).toMatchObject({ ok: true });
    const daveAtB = await connect(b);
    expect(await join(daveAtB, 'r2', 'Dave')).toMatchObject({ ok: true });
    // B is now full (2 of 2). Once A has heard so, a new room joined through B goes to A…
    await until(async () => (await listing(a.url)).nodes.find((n) => n.id === 'node-b')?.peers === 2);
    const erinAtB = await connect(b);
    expect(await join(erinAtB, 'r3', 'Erin')).toMatchObject({ ok: false, error: { code: 'moved', location: a.url } });
    // …and one joined through A stays on A.
    const frankAtA = await connect(a);
    expect(await join(frankAtA, 'r4', 'Frank')).toMatchObject({ ok: true });
    // B's own room still takes joins.
    gina = await connect(b);
    expect(await join(gina, 'r2', 'Gina')).toMatchObject({ ok: true });
  });

  it('lists every node\'s rooms from any node, and closes a room on whichever node holds it (through the socket.io adapter)', async () => {
    const list = await listing(a.url);
    expect(list.rooms).toEqual(expect.arrayContaining([
      { id: 'r1', node: 'node-a', peers: 2 },
      { id: 'r2', node: 'node-b', peers: 3 },
    ]));
    const res = await fetch(`${a.url}/cluster/rooms/r2/close`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await gina.next('roomClosed')).toEqual({ reason: 'closed_by_operator' });
    // The closed room's claim went with it: a new join places it afresh.
    await until(async () => !(await listing(a.url)).rooms.some((r) => r.id === 'r2'));
    // From a web page (it names an Origin), the same request is refused.
    expect((await fetch(`${a.url}/cluster/rooms/r1/close`, { method: 'POST', headers: { Origin: a.url } })).status).toBe(403);
  });

  it('a killed node\'s rooms are placed on a live node once its heartbeat lapses (time measured)', async () => {
    const k = await startServerProcess({ REDIS_URL: redis.url, NODE_TTL_S: TTL_S, GUISE_AUTH_SECRET: SECRET, NODE_ID: 'node-k' });
    try {
      const kim = await connect(k);
      // K is idle (A has peers): the room stays on K.
      await until(async () => (await listing(a.url)).nodes.some((n) => n.id === 'node-k'));
      expect(await join(kim, 'rk', 'Kim')).toMatchObject({ ok: true });
      const lee = await connect(a);
      expect(await join(lee, 'rk', 'Lee')).toMatchObject({ ok: false, error: { code: 'moved', location: k.url } });

      const lost = new Promise<void>((resolve) => kim.socket.once('disconnect', () => resolve()));
      const killedAt = performance.now();
      k.child.kill('SIGKILL');
      await lost;
      // Rejoining through A: sent to K while K's keys live, then placed afresh.
      let answer = await join(lee, 'rk', 'Lee');
      while (!answer.ok && answer.error.code === 'moved' && answer.error.location === k.url) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await join(lee, 'rk', 'Lee');
      }
      const ms = Math.round(performance.now() - killedAt);
      log.info({ ms }, 'failover after a node kill');
      console.log(`cluster: a killed node's room was placed again ${ms} ms after the kill (NODE_TTL_S=${TTL_S})`);
      expect(answer.ok || (answer.error.code === 'moved' && answer.error.location === b.url)).toBe(true);
      // Pages K served are still open in browsers: once K is gone, they may still reach the live nodes; other origins may not.
      await until(async () => !(await listing(a.url)).nodes.some((n) => n.id === 'node-k'));
      (await TestClient.connect(a.url, { Origin: k.url })).close();
      await expect(TestClient.connect(a.url, { Origin: 'http://elsewhere.test:3000' })).rejects.toThrow();
    } finally {
      await k.stop();
    }
  });

  it('SIGTERM drains a node: no new rooms there, its open room goes on and takes joins, and it exits 0 once the room ends', async () => {
    const d = await startServerProcess({ REDIS_URL: redis.url, NODE_TTL_S: TTL_S, GUISE_AUTH_SECRET: SECRET, NODE_ID: 'node-d' });
    const exited = new Promise<number | null>((resolve) => d.child.once('exit', (code) => resolve(code)));
    const uma = await connect(d);
    await until(async () => (await listing(d.url)).nodes.length >= 3);
    const um = await joinWithMedia(uma, 'rd', 'Uma', 7001, await token('rd'));
    expect(um.producerId).toBeDefined();

    d.child.kill('SIGTERM');
    await until(async () => (await (await fetch(`${d.url}/healthz`)).json() as { draining?: boolean }).draining === true);
    // A new room asked of the draining node goes elsewhere…
    const vic = await connect(d);
    const elsewhere = await join(vic, 'rd2', 'Vic');
    expect(elsewhere).toMatchObject({ ok: false, error: { code: 'moved' } });
    expect((elsewhere as { error: { location: string } }).error.location).not.toBe(d.url);
    // …while its open call goes on: a new member joins it and receives Uma's audio.
    const vi = await joinWithMedia(vic, 'rd', 'Vic', 7002, await token('rd'));
    const consumed = await vic.request('consume', { transportId: vi.recv.id, producerId: um.producerId, rtpCapabilities: vi.joined.rtpCapabilities });
    expect(consumed.producerId).toBe(um.producerId);
    expect(d.child.exitCode).toBeNull();
    // The call ends (both leave): the node stops by itself.
    await vic.request('leave', {});
    await uma.request('leave', {});
    expect(await exited, d.output()).toBe(0);
  });

  it('while Redis is away, open rooms go on and take joins, new rooms are refused with a clear error; once it is back, they are placed again', async () => {
    const port = Number(new URL(redis.url).port);
    await redis.stop();
    const wren = await connect(a);
    expect(await join(wren, 'r1', 'Wren')).toMatchObject({ ok: true }); // r1 is open on A
    const xan = await connect(a);
    expect(await join(xan, 'r-new', 'Xan')).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/Redis/) } });
    redis = await startRedis(port);
    // node-redis reconnects by itself; the nodes heartbeat again (their claims on open rooms with them).
    await until(async () => (await listing(a.url)).nodes.length === 2);
    let answer = await join(xan, 'r-new', 'Xan');
    while (!answer.ok && answer.error.code === 'unavailable') answer = await join(xan, 'r-new', 'Xan');
    expect(answer.ok || answer.error.code === 'moved').toBe(true);
  });
});

describe('cluster mode: bad settings fail the start with a clear message', () => {
  it('refuses a REDIS_URL that is not redis://, and NODE_CAPACITY without REDIS_URL', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig({ NODE_CAPACITY: '10' })).toThrow(/set REDIS_URL too/);
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', NODE_ID: 'bad id!' })).toThrow(/NODE_ID/);
  });

  it('says so when Redis cannot be reached, and leaves nothing running', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: '1', REDIS_URL: 'redis://127.0.0.1:1' });
    await expect(startApp(config, log)).rejects.toThrow(/cluster mode: could not reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
