// Media through a real TURN relay: coturn on loopback with a shared secret
// (use-auth-secret), the server handing each peer REST credentials for it, and
// two browsers forced to relay-only (`&relay=1`). mediasoup is ICE-lite and has
// no TURN of its own, so the relay sits between each browser and mediasoup.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, decodedFrames, launchParticipant, waitForDecodedFrames, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { freePort, startServer, type RunningServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';

const TURN_SECRET = 'e2e-turn-shared-secret-0123456789';
const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

interface Turn { port: number; log: string[]; process: ChildProcess }

/** coturn on loopback, no config file, logging to stdout; allowed to relay to the media server's loopback port. */
async function startTurn(): Promise<Turn> {
  const port = await freePort();
  const child = spawn(TURNSERVER, [
    '-n', '--log-file=stdout', '--simple-log', '-v',
    '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    '--min-port=50000', '--max-port=50999',
    '--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`, '--realm=guise.test',
    '--no-tls', '--no-dtls', '--no-tcp-relay', '--allow-loopback-peers', '--cli-password=x', '--no-cli',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (d: Buffer) => { log.push(d.toString()); if (log.length > 2000) log.shift(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Ready once it listens on the port (UDP, so probe with its TCP listener on the same port).
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}:\n${log.join('')}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`turnserver did not start:\n${log.join('')}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, log, process: child };
}

/** Keeps every RTCPeerConnection the page makes in window.__pcs, to read its stats. */
async function trackPeerConnections(p: Participant): Promise<void> {
  await p.page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) { super(config); pcs.push(this); }
    };
  });
}

/** For each of the page's connected peer connections: its ICE policy and the selected pair's local and remote candidate types. */
function selectedPairs(p: Participant) {
  return p.page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const out: { policy: string | undefined; local: string; remote: string; relayProtocol: string | undefined }[] = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = [...(await pc.getStats()).values()] as Record<string, unknown>[];
      const byId = new Map(stats.map((s) => [s.id as string, s]));
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = transport ? byId.get(transport.selectedCandidatePairId as string) : undefined;
      const local = pair ? byId.get(pair.localCandidateId as string) : undefined;
      const remote = pair ? byId.get(pair.remoteCandidateId as string) : undefined;
      out.push({
        policy: pc.getConfiguration().iceTransportPolicy,
        local: String(local?.candidateType), remote: String(remote?.candidateType),
        relayProtocol: local?.relayProtocol as string | undefined,
      });
    }
    return out;
  });
}

describe('a call through a TURN relay (coturn, use-auth-secret)', () => {
  let turn: Turn;
  let server: RunningServer;
  let alice: Participant;
  let bob: Participant;
  const room = `turn-${Date.now().toString(36)}`;

  beforeAll(async () => {
    expect(spawnSync(TURNSERVER, ['-h']).error, `coturn is missing (${TURNSERVER}); ./guise setup installs it`).toBeUndefined();
    turn = await startTurn();
    server = await startServer({ TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET });
    [alice, bob] = await Promise.all([launchParticipant(fakeCamera('glasses')), launchParticipant(fakeCamera('talking'))]);
    await Promise.all([trackPeerConnections(alice), trackPeerConnections(bob)]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
    turn?.process.kill('SIGTERM');
  });

  it('with relay forced, video flows both ways over relay candidates, and coturn allocated for each peer', async () => {
    for (const [p, name] of [[alice, 'Alice'], [bob, 'Bob']] as const) {
      await p.page.goto(`${server.url}/?room=${room}&name=${name}&autojoin=1&relay=1`, { waitUntil: 'commit' });
      await p.page.waitForSelector('[data-testid="call"]', { timeout: 60_000 });
      await p.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected');
    }
    expect(await waitForRemoteVideo(alice.page, 'Bob')).toEqual({ width: 640, height: 480 });
    expect(await waitForRemoteVideo(bob.page, 'Alice')).toEqual({ width: 640, height: 480 });
    await waitForDecodedFrames(alice.page, 'Bob', await decodedFrames(alice.page, 'Bob'), 15);
    await waitForDecodedFrames(bob.page, 'Alice', await decodedFrames(bob.page, 'Alice'), 15);

    for (const p of [alice, bob]) {
      const pairs = await selectedPairs(p);
      // A send and a receive transport, each on a relayed pair to mediasoup's host candidate.
      expect(pairs).toHaveLength(2);
      for (const pair of pairs) expect(pair).toEqual({ policy: 'relay', local: 'relay', remote: 'host', relayProtocol: 'udp' });
    }

    // coturn saw each peer's REST username ("<expiry>:<peer id>") allocate a relay.
    const peerIds = await Promise.all([alice, bob].map((p) => p.page.evaluate(() => window.__guise.session.state.selfId)));
    const log = turn.log.join('');
    for (const id of peerIds) {
      expect(log, `coturn's log names ${id}`).toMatch(new RegExp(`user <\\d+:${id}>[^\\n]*ALLOCATE processed, success`));
    }
  });

  it('left no page errors behind', () => {
    expect(appErrors(alice)).toEqual([]);
    expect(appErrors(bob)).toEqual([]);
  });
});
