// What a redirect costs: two Guise nodes and a Redis on loopback, a room held
// by node A, and joins to it made directly through A and through B (which
// answers `moved` with A's address, so the client reconnects to A and joins
// again), alternated in one run so both see the same machine load.
//  - signaling only: socket.io connect → join answered (many repetitions);
//  - a browser: first signaling connection → first remote video frame.
import { launchParticipant, waitForRemoteVideo, joinCall, type Participant } from '../lib/browser.ts';
import { startRedis } from '../lib/redis.ts';
import { startServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';
import { connectSignaling, SignalingError, type Signaling } from '@guise/client/call/signaling';

export interface ClusterBenchResult {
  signaling: { reps: number; directMsMedian: number; redirectedMsMedian: number; extraMsMedian: number };
  browser: {
    reps: number; directMs: number[]; redirectedMs: number[]; directMsMedian: number; redirectedMsMedian: number; extraMsMedian: number;
    /** In the redirected page: its first signaling connection (to B) → its connection to A, where it joins. */
    detourMs: number[]; detourMsMedian: number;
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function connected(url: string): Promise<Signaling> {
  const sig = connectSignaling(url);
  return new Promise((resolve, reject) => {
    const off = sig.onState((state, cause) => {
      if (state === 'connected') { off(); resolve(sig); }
      if (cause?.type === 'connect_error') { off(); sig.close(); reject(new Error(`could not connect to ${url}: ${cause.message}`)); }
    });
  });
}

/** ms from opening a connection to `entry` until `room` is joined, following one `moved` as the app does. */
async function timeJoin(entry: string, room: string, name: string): Promise<{ ms: number; moved: boolean }> {
  const t0 = performance.now();
  let sig = await connected(entry);
  let moved = false;
  try {
    try {
      await sig.request('join', { room, displayName: name });
    } catch (err) {
      if (!(err instanceof SignalingError) || err.code !== 'moved' || !err.location) throw err;
      moved = true;
      sig.close();
      sig = await connected(err.location);
      await sig.request('join', { room, displayName: name });
    }
    return { ms: performance.now() - t0, moved };
  } finally {
    sig.close();
  }
}

/** Records when the first remote video frame is presented (as run.ts's probe). */
const firstFrameProbe = () => {
  const w = window as unknown as { __firstRemoteFrameAt?: number };
  new MutationObserver(() => {
    for (const v of document.querySelectorAll<HTMLVideoElement>('[data-local="false"] video[data-testid="tile-video"]')) {
      v.requestVideoFrameCallback((now) => { w.__firstRemoteFrameAt ??= now; });
    }
  }).observe(document, { childList: true, subtree: true });
};

export async function benchCluster(reps = { signaling: 20, browser: 5 }): Promise<ClusterBenchResult> {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, NODE_TTL_S: '6', LOG_LEVEL: 'warn' };
  const a = await startServer({ ...env, NODE_ID: 'bench-a' });
  const b = await startServer({ ...env, NODE_ID: 'bench-b' });
  const people: Participant[] = [];
  try {
    // B must know A before it can redirect to it.
    for (;;) {
      const nodes = ((await (await fetch(`${b.url}/cluster`)).json()) as { nodes: unknown[] }).nodes;
      if (nodes.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const room = `bench-cluster-${Date.now().toString(36)}`;
    // The host holds the room on A for the whole run (A is where it was first joined).
    const host = await launchParticipant(fakeCamera('glasses'));
    people.push(host);
    await joinCall(host.page, a.url, room, 'Host');

    const direct: number[] = [];
    const redirected: number[] = [];
    for (let i = 0; i < reps.signaling; i++) {
      const d = await timeJoin(a.url, room, `Direct ${i}`);
      const r = await timeJoin(b.url, room, `Redirected ${i}`);
      if (d.moved || !r.moved) throw new Error('the room is not where the bench expects it (on A)');
      direct.push(d.ms);
      redirected.push(r.ms);
    }

    const guest = await launchParticipant(fakeCamera('talking'));
    people.push(guest);
    await guest.page.addInitScript(firstFrameProbe);
    const browser = { direct: [] as number[], redirected: [] as number[], detour: [] as number[] };
    // One join first, not counted: the first page load compiles the app's wasm and workers.
    for (let i = -1; i < reps.browser; i++) {
      const both = [[a.url, browser.direct], [b.url, browser.redirected]] as const;
      // Which goes first alternates, so neither always follows the other's leave.
      for (const [entry, into] of i % 2 === 0 ? both : [...both].reverse()) {
        await joinCall(guest.page, entry, room, 'Guest');
        await waitForRemoteVideo(guest.page, 'Host');
        const t = await guest.page.evaluate(() => {
          // From the first connection (to the node the page came from), so a redirect's detour counts.
          const marks = performance.getEntriesByName('guise:signaling-connected');
          const first = (window as unknown as { __firstRemoteFrameAt?: number }).__firstRemoteFrameAt;
          if (marks.length === 0 || first === undefined) throw new Error('missing timing marks');
          return { join: first - marks[0]!.startTime, detour: marks.at(-1)!.startTime - marks[0]!.startTime };
        });
        await guest.page.click('[data-testid="leave"]');
        if (i < 0) continue;
        into.push(t.join);
        if (entry === b.url) browser.detour.push(t.detour);
      }
    }
    const round = (xs: number[]) => xs.map((x) => Math.round(x));
    const dm = median(direct), rm = median(redirected);
    const bdm = median(browser.direct), brm = median(browser.redirected);
    return {
      signaling: { reps: reps.signaling, directMsMedian: +dm.toFixed(1), redirectedMsMedian: +rm.toFixed(1), extraMsMedian: +(rm - dm).toFixed(1) },
      browser: {
        reps: reps.browser, directMs: round(browser.direct), redirectedMs: round(browser.redirected),
        directMsMedian: Math.round(bdm), redirectedMsMedian: Math.round(brm), extraMsMedian: Math.round(brm - bdm),
        detourMs: round(browser.detour), detourMsMedian: Math.round(median(browser.detour)),
      },
    };
  } finally {
    await Promise.all(people.map((p) => p.close()));
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}

export function printCluster(r: ClusterBenchResult | { error: string }): void {
  if ('error' in r) { console.log(`Cluster join bench failed: ${r.error}`); return; }
  console.log('Joining a room held by another cluster node (moved → reconnect → join) vs joining it directly, same run');
  console.table([
    { path: `signaling only (connect → joined), median of ${r.signaling.reps}`, 'direct ms': r.signaling.directMsMedian, 'redirected ms': r.signaling.redirectedMsMedian, 'extra ms': r.signaling.extraMsMedian },
    { path: `browser (connected → first remote frame), median of ${r.browser.reps}`, 'direct ms': r.browser.directMsMedian, 'redirected ms': r.browser.redirectedMsMedian, 'extra ms': r.browser.extraMsMedian },
  ]);
  console.log(`  in the redirected page, first connection → connected to the room's node: ${r.browser.detourMsMedian} ms (median; each: ${r.browser.detourMs.join(', ')});`
    + ` browser join times vary by more than the detour (direct: ${r.browser.directMs.join(', ')}; redirected: ${r.browser.redirectedMs.join(', ')})`);
}
