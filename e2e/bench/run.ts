// Benchmarks, all in one run. The call as a person gets it (call-bench.ts:
// swap off, mesh and idn between a sender and a receiver browser); time to
// join (signaling connected → first remote frame rendered) and the server's
// CPU and memory (node + mediasoup workers) while a 2-peer and a 4-peer call
// run; the extra join time through a cluster node that redirects (cluster-bench.ts,
// BENCH_ONLY=cluster alone); the swap in the lobby alone; the IDN generator. Writes JSON and prints
// tables.
import fs from 'node:fs';
import path from 'node:path';
import { joinCall, launchParticipant, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { repoRoot } from '../lib/paths.ts';
import { sampleTree } from '../lib/procstat.ts';
import { startServer } from '../lib/server.ts';
import { connectSignaling, type Signaling } from '@guise/client/call/signaling';
import { benchCall, type CallBenchResult } from './call-bench.ts';
import { benchCluster, type ClusterBenchResult, printCluster } from './cluster-bench.ts';
import { benchOutput, printOutput, type OutputBenchResult } from './output-bench.ts';
import { benchIdn } from './idn-bench.ts';
import { benchSwap } from './swap-bench.ts';
import { fakeCamera, type CameraName } from '../lib/y4m.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const cameras: CameraName[] = ['glasses', 'talking', 'studio', 'glasses'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Records, inside the page, when the first remote video frame is presented. */
const firstFrameProbe = () => {
  const seen = new WeakSet<HTMLVideoElement>();
  const w = window as unknown as { __firstRemoteFrameAt?: number };
  new MutationObserver(() => {
    for (const v of document.querySelectorAll<HTMLVideoElement>('[data-local="false"] video[data-testid="tile-video"]')) {
      if (seen.has(v)) continue;
      seen.add(v);
      v.requestVideoFrameCallback((now) => { w.__firstRemoteFrameAt ??= now; });
    }
  }).observe(document, { childList: true, subtree: true });
};

/** `bots` signaling-only peers (socket.io, no media) join the room too, once the browsers are in. */
async function runCall(peers: number, bots = 0) {
  const server = await startServer({ LOG_LEVEL: 'warn' });
  const room = `bench-${peers}-${Date.now().toString(36)}`;
  const people: Participant[] = [];
  const signaling: Signaling[] = [];
  try {
    for (let i = 0; i < peers; i++) {
      const p = await launchParticipant(fakeCamera(cameras[i]!));
      await p.page.addInitScript(firstFrameProbe);
      people.push(p);
    }
    const joinMs: number[] = [];
    for (const [i, p] of people.entries()) {
      await joinCall(p.page, server.url, room, `P${i}`);
      // Later joiners see earlier ones at once; the first one waits for the second.
      if (i > 0) {
        await waitForRemoteVideo(p.page, 'P0');
        joinMs.push(await p.page.evaluate(() => {
          const connected = performance.getEntriesByName('guise:signaling-connected').at(-1)?.startTime;
          const first = (window as unknown as { __firstRemoteFrameAt?: number }).__firstRemoteFrameAt;
          if (connected === undefined || first === undefined) throw new Error('missing timing marks');
          return first - connected;
        }));
      }
    }
    for (const [i, p] of people.entries()) {
      for (let j = 0; j < peers; j++) if (j !== i) await waitForRemoteVideo(p.page, `P${j}`);
    }
    for (let i = 0; i < bots; i++) {
      const sig = connectSignaling(server.url);
      signaling.push(sig);
      if (sig.state !== 'connected') {
        await new Promise<void>((resolve, reject) => {
          const off = sig.onState((state, cause) => {
            if (state === 'connected') { off(); resolve(); }
            if (state === 'disconnected') { off(); reject(new Error(`bot ${i} could not connect: ${cause?.message ?? 'disconnected'}`)); }
          });
        });
      }
      await sig.request('join', { room, displayName: `Bot ${i}` });
    }
    const pid = server.process.pid!;
    const start = sampleTree(pid);
    const t0 = performance.now();
    let peakRss = start.rssBytes;
    while (performance.now() - t0 < SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      peakRss = Math.max(peakRss, sampleTree(pid).rssBytes);
    }
    const end = sampleTree(pid);
    const wall = (performance.now() - t0) / 1000;
    return {
      peers,
      bots,
      joinMsMedian: Math.round(median(joinMs)),
      joinMs: joinMs.map(Math.round),
      serverCpuPercent: +((100 * (end.cpuSeconds - start.cpuSeconds)) / wall).toFixed(1),
      serverRssMiB: +(end.rssBytes / 2 ** 20).toFixed(1),
      serverPeakRssMiB: +(peakRss / 2 ** 20).toFixed(1),
      seconds: +wall.toFixed(1),
    };
  } finally {
    for (const sig of signaling) sig.close();
    await Promise.all(people.map((p) => p.close()));
    await server.stop();
  }
}

// BENCH_ONLY=cluster: the redirected-vs-direct join table alone (two nodes and a Redis on loopback).
const runCluster = (): Promise<ClusterBenchResult | { error: string }> => benchCluster().catch((err: Error) => ({ error: err.stack ?? err.message }));
if (process.env.BENCH_ONLY === 'cluster') {
  const cluster = await runCluster();
  const out = path.join(repoRoot, 'bench-results/bench-cluster.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cluster }, null, 2));
  printCluster(cluster);
  process.exit('error' in cluster ? 1 : 0);
}
// BENCH_ONLY=output: the output page's latency row alone.
if (process.env.BENCH_ONLY === 'output') {
  const outputServer = await startServer({ LOG_LEVEL: 'warn' });
  const result = await benchOutput(outputServer, SECONDS).catch((err: Error) => ({ error: err.stack ?? err.message })).finally(() => outputServer.stop());
  printOutput(result);
  process.exit('error' in result ? 1 : 0);
}

const callServer = await startServer({ LOG_LEVEL: 'warn' });
const call: CallBenchResult | { error: string } = await benchCall(callServer, SECONDS)
  .catch((err: Error) => ({ error: err.stack ?? err.message }))
  .finally(() => callServer.stop());
// BENCH_ONLY=call: the call table alone (a quicker loop while working on the pipeline).
const onlyCall = process.env.BENCH_ONLY === 'call';
if (onlyCall) {
  printCall(call);
  process.exit('error' in call ? 1 : 0);
}
const outputServer = await startServer({ LOG_LEVEL: 'warn' });
const output: OutputBenchResult | { error: string } = await benchOutput(outputServer, Math.min(SECONDS, 20))
  .catch((err: Error) => ({ error: err.stack ?? err.message }))
  .finally(() => outputServer.stop());
const results = [];
for (const peers of [2, 4]) results.push(await runCall(peers));
// A bounded load: two browsers and as many signaling bots as the room still holds (16 peers).
results.push(await runCall(2, 14));
const cluster = await runCluster();
const swapServer = await startServer({ LOG_LEVEL: 'warn' });
const swap = await benchSwap(swapServer, Math.min(SECONDS, 20)).finally(() => swapServer.stop());
const idn = await benchIdn();
const landmarksMs = swap[0]?.landmarksMs ?? NaN;
const ratio = (ms: number) => +(ms / landmarksMs).toFixed(2);
// The warp-guided 128 model's per-frame costs, each also ÷ FaceLandmarker's ms in this run.
const guided = { ...idn.guided, generatorToLandmarksRatio: ratio(idn.guided.generatorMsMedian), warpToLandmarksRatio: ratio(idn.guided.warpMsMedian) };

const out = path.join(repoRoot, 'bench-results/bench.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, call, output, joins: results, cluster, swap, idn: { ...idn, guided }, landmarksMs }, null, 2));
printCall(call);
printOutput(output);
console.log('Joining calls (server process tree: node + mediasoup workers)');
console.table(results.map((r) => ({
  peers: r.peers, 'signaling bots': r.bots, 'join ms (median)': r.joinMsMedian, 'server CPU %': r.serverCpuPercent,
  'server RSS MiB': r.serverRssMiB, 'peak RSS MiB': r.serverPeakRssMiB,
})));
printCluster(cluster);
console.log('Face swap in the lobby alone (one browser, 640×480 fake camera, medians of 1-s windows)');
console.table(swap.map((r) => ({
  engine: r.engine, 'fps in': r.fpsIn, 'fps out': r.fpsOut, 'landmarks ms': r.landmarksMs, 'engine ms': r.engineMs,
  'paste-back ms': r.pasteMs, 'dropped/s': r.droppedPerSecond, '(engine+paste)/landmarks': r.engineToLandmarksRatio,
})));
console.log('IDN generator, counted from the ONNX files (paper: 0.50 M params, 0.33 G; released code 0.306 GMACs)');
console.table(idn.counts.map((c) => ({ crop: c.crop, 'params (M)': +(c.params / 1e6).toFixed(3), 'per identity': c.perIdentityParams, shared: c.sharedParams, 'GMACs/frame': c.gmacs })));
console.log(`IDN per frame on onnxruntime-web (FaceLandmarker: ${landmarksMs} ms in the same run)`);
console.table(idn.timings.map((t) => ({ crop: t.crop, backend: t.backend, 'identity weights': t.weights, 'ms median': t.msMedian, 'ms p90': t.msP90, '÷ landmarks': +(t.msMedian / landmarksMs).toFixed(2) })));
console.log('IDN warp-guided 128 per frame (7-channel input; generator: wasm, identity fed; guide warp: TriangleWarp in Node)');
console.table([{
  'generator ms median': guided.generatorMsMedian, 'generator ms p90': guided.generatorMsP90, 'generator ÷ landmarks': guided.generatorToLandmarksRatio,
  'warp ms median': guided.warpMsMedian, 'warp ms p90': guided.warpMsP90, 'warp ÷ landmarks': guided.warpToLandmarksRatio,
}]);
console.log(`identity + conditioner, once per identity: ${idn.identityPlusConditionerMs} ms (wasm); pack: ${(idn.packBytes / 1024).toFixed(0)} KiB (fp16)`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
if ('error' in call) process.exitCode = 1;

function printCall(call: CallBenchResult | { error: string }) {
  if ('error' in call) {
    console.log(`Call bench failed: ${call.error}`);
    return;
  }
  const pq = (s: { p50: number; p95: number } | undefined) => (s ? `${s.p50} / ${s.p95}` : '–');
  console.log(`A call as the receiver sees it (sender + server + receiver on this machine, ${SECONDS}-s windows; stages p50 / p95 of 1-s means)`);
  console.table(call.phases.map((p) => {
    const vs = call.versusOff.find((v) => v.engine === p.engine);
    return {
      engine: p.engine, 'camera fps': p.cameraFps, 'sender fps in': p.senderFpsIn, 'sender fps out': p.senderFpsOut,
      'receiver fps': p.receiverDecodedFps, 'dropped/s': p.droppedPerSecond, 'new faces/s': p.newFacesPerSecond,
      'landmarks ms': pq(p.stages?.landmarksMs), 'engine ms': pq(p.stages?.engineMs), 'paste-back ms': pq(p.stages?.pasteMs),
      'latency ms p50 / p95': pq(p.latencyMs), 'added latency ms': vs?.addedLatencyMs ?? '–',
      'fps on/off (sender, receiver)': vs ? `${vs.senderFpsRatio}, ${vs.receiverFpsRatio}` : '–',
      'heap MiB': p.heapMiB, 'workers MiB': p.workersMiB ?? 'n/a',
    };
  }));
  console.log('Where the call latency goes (WebRTC stats over the same windows)');
  console.table(call.phases.map((p) => ({
    engine: p.engine, 'encode ms/frame': p.rtc.encodeMs, 'pacer ms/packet': p.rtc.sendDelayMs, 'quality limited by': p.rtc.qualityLimitation,
    'sent width': p.rtc.sentWidth, 'decode ms/frame': p.rtc.decodeMs, 'jitter buffer ms': p.rtc.jitterBufferMs,
  })));
  console.log('Identity switch in the call (astronaut → a photo; receiver side unless said)');
  console.table(call.switches.map((s) => ('error' in s ? { engine: s.engine, error: s.error } : {
    engine: s.engine, 'choose → selected ms': s.prepareMs, 'max gap ms': s.maxGapMs, 'min fps (1 s)': s.minFps,
    'old-face frames after selected': s.oldFaceFrames, 'new face after selected ms': s.newFaceAfterMs ?? 'never',
    'sender min fps out': s.senderMinFpsOut,
  })));
  const j = call.join;
  console.log('error' in j ? `join → first swapped frame: failed: ${j.error}`
    : `join with ${j.engine} (model and identity cached): page load → connected ${j.loadToConnectedMs} ms, connected → first swapped frame at the receiver ${j.connectedToFirstSwappedMs ?? 'never'} ms`);
  console.log(`frame numbers read on ${(call.stampReadShare * 100).toFixed(1)}% of received frames`);
}
