// Three Guise nodes and a Redis on loopback (cluster mode), two real browsers:
// Alice opens node A and Bob node B, and they land in one call; a new room
// goes to a less-loaded node; killing the node that holds the call brings
// both back on a surviving node (the time is measured and printed); a
// draining node takes no new rooms while its call goes on until it ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, decodedFrames, joinCall, launchParticipant, remoteAudioLevel, remoteThumbnail, waitForDecodedFrames, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { startRedis, type RunningRedis } from '../lib/redis.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { bestCorrelation } from '../lib/thumbnail.ts';
import { fakeCamera, y4mThumbnails } from '../lib/y4m.ts';
import { connectSignaling, SignalingError, type Signaling } from '@guise/client/call/signaling';

/** Shorter than the default (6) to keep the test quick; CLUSTER_TEST_NODE_TTL_S=6 measures failover at the default. */
const NODE_TTL_S = process.env.CLUSTER_TEST_NODE_TTL_S ?? '3';

/** Polls `check` until it holds; the test's own timeout bounds it. */
async function until(check: () => Promise<boolean> | boolean, everyMs = 200): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

const liveNodeIds = async (url: string): Promise<string[]> =>
  ((await (await fetch(`${url}/cluster`)).json()) as { nodes: { id: string }[] }).nodes.map((n) => n.id).sort();

/** Which node the page's call signaling talks to, and whether it is in the call. */
const callState = (p: Participant) => p.page.evaluate(() => ({ node: window.__guise.session.state.node, status: window.__guise.session.state.status }));

/** The answer a signaling-only client gets when it asks `node` to open `room`. */
async function joinAnswer(node: string, room: string): Promise<{ ok: true } | { code: string; location: string | undefined }> {
  const sig: Signaling = connectSignaling(node);
  try {
    await new Promise<void>((resolve, reject) => {
      const off = sig.onState((state, cause) => {
        if (state === 'connected') { off(); resolve(); }
        if (cause?.type === 'connect_error') { off(); reject(new Error(`could not connect to ${node}: ${cause.message}`)); }
      });
    });
    await sig.request('join', { room, displayName: 'Probe' });
    return { ok: true };
  } catch (err) {
    if (err instanceof SignalingError) return { code: err.code, location: err.location };
    throw err;
  } finally {
    sig.close();
  }
}

describe('cluster: nodes and Redis on loopback', () => {
  let redis: RunningRedis;
  const nodes: Record<'a' | 'b' | 'c', RunningServer | undefined> = { a: undefined, b: undefined, c: undefined };
  let alice: Participant;
  let bob: Participant;
  const cameras = { alice: fakeCamera('glasses'), bob: fakeCamera('talking') };
  const frames = { alice: y4mThumbnails(cameras.alice.y4m), bob: y4mThumbnails(cameras.bob.y4m) };
  const room = `cluster-${Date.now().toString(36)}`;
  /** Ports of the nodes stopped during the test (killed, drained): the pages' refused requests to them are expected. */
  const gonePorts: string[] = [];
  const startNode = (id: string) => startServer({ REDIS_URL: redis.url, NODE_ID: id, NODE_TTL_S, DRAIN_TIMEOUT_S: '300' });

  /** Both see and hear each other, and each picture is the other's camera. */
  async function inCallTogether(): Promise<void> {
    for (const [viewer, senderName, sender] of [[alice, 'Bob', 'bob'], [bob, 'Alice', 'alice']] as const) {
      expect(await waitForRemoteVideo(viewer.page, senderName), `${senderName}'s video size`).toEqual({ width: 640, height: 480 });
      await waitForDecodedFrames(viewer.page, senderName, await decodedFrames(viewer.page, senderName), 15);
      expect(bestCorrelation(await remoteThumbnail(viewer.page, senderName), frames[sender]), `${senderName}'s picture vs their camera`).toBeGreaterThan(0.95);
      const audio = await remoteAudioLevel(viewer.page, senderName);
      expect(audio.readyState, `${senderName}'s audio track`).toBe('live');
      expect(audio.rms, `${senderName}'s audio level`).toBeGreaterThan(0.01);
    }
  }

  beforeAll(async () => {
    redis = await startRedis();
    nodes.a = await startNode('node-a');
    nodes.b = await startNode('node-b');
    // C is there from the start: the call must have somewhere to go once A is killed and B drains.
    nodes.c = await startNode('node-c');
    // Each node knows the others before a page loads: its CSP lets the page connect there.
    await until(async () => (await Promise.all([nodes.a!, nodes.b!, nodes.c!].map((n) => liveNodeIds(n.url)))).every((ids) => ids.length === 3));
    [alice, bob] = await Promise.all([launchParticipant(cameras.alice), launchParticipant(cameras.bob)]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await Promise.all(Object.values(nodes).map((n) => n?.stop()));
    await redis?.stop();
  });

  it('Alice joins through node A and Bob through node B: one call, each sees and hears the other', async () => {
    const a = nodes.a!;
    await joinCall(alice.page, a.url, room, 'Alice');
    await joinCall(bob.page, nodes.b!.url, room, 'Bob');
    // A took the room (its first joiner came through it); Bob's page moved its signaling there, without a reload.
    expect(await callState(alice), 'Alice\'s node').toEqual({ node: a.url, status: 'connected' });
    expect(await callState(bob), 'Bob\'s node').toEqual({ node: a.url, status: 'connected' });
    expect(bob.page.url()).toContain(nodes.b!.url);
    await inCallTogether();
  });

  it('a second room goes to a less-loaded node', async () => {
    // A holds two peers, B and C none (the lower id breaks their tie): asking A for a new room is answered with B's address.
    expect(await joinAnswer(nodes.a!.url, `${room}-2`)).toEqual({ code: 'moved', location: nodes.b!.url });
  });

  /** The surviving node that holds the call after A is killed. */
  let survivor: RunningServer;

  it('killing the node that holds the call brings both browsers back into it on a surviving node', async () => {
    const a = nodes.a!;
    gonePorts.push(new URL(a.url).port);
    const killedAt = performance.now();
    a.process.kill('SIGKILL');
    await until(async () => {
      const [sa, sb] = await Promise.all([callState(alice), callState(bob)]);
      return sa.status === 'connected' && sb.status === 'connected' && sa.node === sb.node && sa.node !== a.url;
    }, 50);
    const rejoinedMs = Math.round(performance.now() - killedAt);
    await Promise.all([waitForRemoteVideo(alice.page, 'Bob'), waitForRemoteVideo(bob.page, 'Alice')]);
    const videoMs = Math.round(performance.now() - killedAt);
    const at = (await callState(alice)).node;
    survivor = [nodes.b!, nodes.c!].find((n) => n.url === at)!;
    console.log(`cluster failover (NODE_TTL_S=${NODE_TTL_S}): both back in the call on a surviving node ${rejoinedMs} ms after the kill, each other's video playing at ${videoMs} ms`);
    nodes.a = undefined;
    await inCallTogether();
  });

  it('a draining node takes no new rooms, and its call goes on until it ends; then the node exits', async () => {
    const b = survivor;
    const other = b === nodes.b ? nodes.c! : nodes.b!;
    const exited = new Promise<number | null>((resolve) => b.process.once('exit', (code) => resolve(code)));

    b.process.kill('SIGTERM');
    await until(async () => ((await (await fetch(`${b.url}/healthz`)).json()) as { draining?: boolean }).draining === true);
    expect(await joinAnswer(b.url, `${room}-3`)).toEqual({ code: 'moved', location: other.url });

    // The call on B goes on: frames keep arriving both ways.
    for (const [viewer, senderName] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
      await waitForDecodedFrames(viewer.page, senderName, await decodedFrames(viewer.page, senderName), 30);
    }
    expect(b.process.exitCode).toBeNull();
    expect(await callState(alice)).toEqual({ node: b.url, status: 'connected' });

    // The call ends: both leave, and the drained node stops by itself.
    await alice.page.click('[data-testid="leave"]');
    await bob.page.click('[data-testid="leave"]');
    expect(await exited, b.logs.join('')).toBe(0);
    gonePorts.push(new URL(b.url).port);
    if (b === nodes.b) nodes.b = undefined; else nodes.c = undefined;
  });

  it('left no page errors behind, beyond requests to the nodes that were stopped', () => {
    // The pages retried the killed node A while its claim on the room ran out (Chromium logs each refused
    // connection), and a page whose own node was killed or drained finds its origin gone once back in the
    // lobby (behind one load-balanced URL the page's origin outlives any one node).
    const toGone = new RegExp(`(ws|http)://localhost:(${gonePorts.join('|')})/`);
    expect(gonePorts).toHaveLength(2);
    for (const p of [alice, bob]) expect(appErrors(p).filter((e) => !toGone.test(e))).toEqual([]);
  });
});
