// What a person in a call gets: a sender browser publishing its (stamped) fake
// camera to the real server and a receiver browser subscribing, both on this
// machine, measured for the swap off (engine "none"), mesh and idn in one run:
// frame rates at both ends, per-stage times, the glass-to-glass latency the
// swap adds (by frame number), the output around an identity switch, the time
// from join to the first swapped frame, and the sender's memory.
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { decodedFrames, joinCall, launchParticipant, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { stampReaderScript } from '../lib/frameStamp.ts';
import { kitPhoto } from '../lib/photos.ts';
import type { RunningServer } from '../lib/server.ts';
import { waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera, stampedCamera } from '../lib/y4m.ts';
import { CameraLog, cameraFps, classify, presentedFps, latencies, looksSwapped, maxGap, minFps, percentile, refsByStamp, round1, swapDistance } from './call-analysis.ts';
import { peerConnectionProbe, receiverProbe, senderProbe, THUMB, type CameraFrame, type PresentedFrame, type StatsSample } from './call-pages.ts';

type EngineName = 'none' | 'mesh' | 'idn';
const IDENTITY = 'sample:astronaut';
const SWITCH_PHOTO = 'deepface-pairs/img5.jpg';
const SENDER = 'Sender';
/** The fake camera's file: 6 s at 30 fps, looped, so frame numbers repeat every LOOP frames. */
const CAMERA_SECONDS = 6, LOOP = CAMERA_SECONDS * 30;
/** After an identity switch: how long the output is watched, and from when the new face counts as settled. */
const SWITCH_WATCH_MS = 8000, SWITCH_SETTLED_MS = 2000;

export interface Stage { p50: number; p95: number }
export interface CallPhase {
  engine: EngineName;
  seconds: number;
  /** Frames the sender's camera delivered per second (read off a clone of its track). */
  cameraFps: number;
  /** Frames reaching the worker and leaving it per second (the pipeline's stats, mean of 1-s windows). */
  senderFpsIn: number;
  senderFpsOut: number;
  droppedPerSecond: number;
  /** Swapped frames per second that showed a newly generated face (idn's generator runs beside the frames). */
  newFacesPerSecond: number;
  /** Frames the receiver's video element decoded, and presented with a readable frame number (requestVideoFrameCallback). */
  receiverDecodedFps: number;
  receiverPresentedFps: number;
  /** Over the 1-s stats windows in which a face was swapped. */
  stages: { landmarksMs: Stage; engineMs: Stage; pasteMs: Stage } | null;
  /**
   * Where the latency goes (WebRTC stats over the window): the sender's encode
   * ms per frame and its packets' pacer delay, what limits its quality, the
   * width it sends; the receiver's decode ms per frame and jitter-buffer delay.
   */
  rtc: { encodeMs: number; sendDelayMs: number; qualityLimitation: string; sentWidth: number; decodeMs: number; jitterBufferMs: number };
  /** Camera → receiver's screen, ms, by frame number. */
  latencyMs: Stage & { frames: number };
  /** Sender's main-thread JS heap, and its workers' memory (measureUserAgentSpecificMemory; null where unavailable). */
  heapMiB: number;
  workersMiB: number | null;
  pageMiB: number | null;
}
export interface SwitchResult {
  engine: EngineName;
  /** Choosing the photo → the app says it is selected. */
  prepareMs: number;
  /** At the receiver, from choosing the photo to SWITCH_SETTLED_MS after "selected": the longest gap and the fewest frames in a second. */
  maxGapMs: number;
  minFps: number;
  /** Frames presented after "selected" that still show the old face, and when the new face first showed. */
  oldFaceFrames: number;
  newFaceAfterMs: number | null;
  /** The sender pipeline's lowest fps out over the switch (1-s windows). */
  senderMinFpsOut: number;
}
export interface JoinResult {
  engine: EngineName;
  /** Sender's page load → its signaling connected → the receiver's first frame showing the swapped face (3 in a row). */
  loadToConnectedMs: number;
  connectedToFirstSwappedMs: number | null;
}
export interface CallBenchResult {
  phases: CallPhase[];
  /** Swap-on ÷ swap-off, and swap-on − swap-off latency (ms), per engine. */
  versusOff: { engine: EngineName; senderFpsRatio: number; receiverFpsRatio: number; addedLatencyMs: number }[];
  switches: (SwitchResult | { engine: EngineName; error: string })[];
  join: JoinResult | { engine: EngineName; error: string };
  /** Share of received frames whose number could be read (the latency's sample). */
  stampReadShare: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const stage = (xs: number[]): Stage => ({ p50: round1(percentile(xs, 50)), p95: round1(percentile(xs, 95)) });

/** Subscribes the sender page's probe to the pipeline's stats (again after each load). */
const watchStats = (page: Page) => page.evaluate(() => {
  const g = window as unknown as { __tx: { stats: unknown[] } };
  let last: unknown = null;
  window.__guise.faceChoice.subscribe((s) => {
    if (s.stats && s.stats !== last) g.__tx.stats.push({ t: performance.timeOrigin + performance.now(), ...s.stats });
    last = s.stats;
  });
});

const takeSender = (page: Page) => page.evaluate(() => {
  const g = window as unknown as { __tx: { stamps: unknown[]; stats: unknown[] } };
  const { stamps, stats } = g.__tx;
  g.__tx.stamps = [];
  g.__tx.stats = [];
  return { stamps, stats };
}) as Promise<{ stamps: CameraFrame[]; stats: StatsSample[] }>;

const takeReceiver = (page: Page) => page.evaluate(() => {
  const g = window as unknown as { __rx: { frames: unknown[] } };
  const { frames } = g.__rx;
  g.__rx.frames = [];
  return frames;
}) as Promise<PresentedFrame[]>;

/** Starts a memory measurement in the sender page (it may take until the next GC). */
const startMemory = (page: Page) => page.evaluate(() => {
  const g = window as unknown as { __memory?: Promise<unknown> };
  const p = performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<unknown> };
  g.__memory = crossOriginIsolated && p.measureUserAgentSpecificMemory ? p.measureUserAgentSpecificMemory().catch(() => null) : Promise.resolve(null);
});

const readMemory = (page: Page, waitMs: number) => page.evaluate(async (waitMs) => {
  type Breakdown = { bytes: number; attribution: { scope?: string }[] }[];
  const g = window as unknown as { __memory?: Promise<{ bytes: number; breakdown: Breakdown } | null> };
  const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
  const m = await Promise.race([g.__memory ?? Promise.resolve(null), new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
  if (!m) return { heap, workers: null, page: null };
  const workers = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0);
  return { heap, workers, page: m.bytes };
}, waitMs);

/** Cumulative WebRTC video counters of a page: what it encodes (outbound) and what it decodes (inbound). */
export interface RtcCounters {
  framesEncoded: number; totalEncodeTime: number; packetSendDelay: number; packetsSent: number;
  qualityLimitation: string; sentWidth: number;
  framesDecoded: number; totalDecodeTime: number; jitterBufferDelay: number; jitterBufferEmitted: number;
}

export async function rtcCounters(page: Page): Promise<RtcCounters> {
  return page.evaluate(async () => {
    const c = {
      framesEncoded: 0, totalEncodeTime: 0, packetSendDelay: 0, packetsSent: 0, qualityLimitation: '', sentWidth: 0,
      framesDecoded: 0, totalDecodeTime: 0, jitterBufferDelay: 0, jitterBufferEmitted: 0,
    };
    for (const pc of (window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.kind !== 'video') return;
        const n = (k: string) => (typeof s[k] === 'number' ? s[k] as number : 0);
        if (s.type === 'outbound-rtp') {
          c.framesEncoded += n('framesEncoded'); c.totalEncodeTime += n('totalEncodeTime');
          c.packetSendDelay += n('totalPacketSendDelay'); c.packetsSent += n('packetsSent');
          c.qualityLimitation = String(s.qualityLimitationReason ?? ''); c.sentWidth = n('frameWidth');
        } else if (s.type === 'inbound-rtp') {
          c.framesDecoded += n('framesDecoded'); c.totalDecodeTime += n('totalDecodeTime');
          c.jitterBufferDelay += n('jitterBufferDelay'); c.jitterBufferEmitted += n('jitterBufferEmittedCount');
        }
      });
    }
    return c;
  });
}

export async function benchCall(server: RunningServer, seconds: number): Promise<CallBenchResult> {
  const room = `bench-call-${Date.now().toString(36)}`;
  const camera = new CameraLog();
  const photo = fs.readFileSync(kitPhoto(SWITCH_PHOTO)).toString('base64');
  const sender = await launchParticipant(stampedCamera('glasses', CAMERA_SECONDS), { extraArgs: ['--enable-precise-memory-info'] });
  let receiver: Participant | undefined;
  try {
    receiver = await launchParticipant(fakeCamera('talking'));
    await sender.page.addInitScript({ content: stampReaderScript });
    await sender.page.addInitScript(senderProbe);
    await sender.page.addInitScript(peerConnectionProbe);
    await receiver.page.addInitScript(peerConnectionProbe);
    await receiver.page.addInitScript({ content: stampReaderScript });
    await receiver.page.addInitScript(receiverProbe, [THUMB.w, THUMB.h] as const);
    await joinCall(sender.page, server.url, room, SENDER);
    await watchStats(sender.page);
    await joinCall(receiver.page, server.url, room, 'Receiver');
    await waitForRemoteVideo(receiver.page, SENDER);
    const rx = receiver;

    const collect = async () => {
      const { stamps, stats } = await takeSender(sender.page);
      camera.add(stamps);
      return { stamps, stats, frames: await takeReceiver(rx.page) };
    };

    let stampsRead = 0, framesSeen = 0;
    /** Measures `seconds` of the call as it is; returns the phase and the received frames. */
    const measure = async (engine: EngineName) => {
      await collect(); // start clean
      await startMemory(sender.page);
      const decoded0 = await decodedFrames(rx.page, SENDER);
      const [tx0, rx0] = [await rtcCounters(sender.page), await rtcCounters(rx.page)];
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const decoded1 = await decodedFrames(rx.page, SENDER);
      const [tx1, rx1] = [await rtcCounters(sender.page), await rtcCounters(rx.page)];
      const per = (num: number, den: number) => (den > 0 ? round1((1000 * num) / den) : 0);
      const wall = (performance.now() - t0) / 1000;
      const { stamps, stats, frames } = await collect();
      const memory = await readMemory(sender.page, 30_000);
      const swapped = stats.filter((s) => s.faceFound && s.engineMs > 0);
      const lat = latencies(frames, camera);
      stampsRead += frames.filter((f) => f.stamp >= 0).length;
      framesSeen += frames.length;
      const phase: CallPhase = {
        engine, seconds: round1(wall),
        cameraFps: round1(cameraFps(stamps, LOOP)),
        senderFpsIn: round1(mean(stats.map((s) => s.fpsIn))),
        senderFpsOut: round1(mean(stats.map((s) => s.fpsOut))),
        droppedPerSecond: round1(mean(stats.map((s) => s.dropped))),
        newFacesPerSecond: round1(mean(stats.map((s) => s.facesPerSecond))),
        receiverDecodedFps: round1((decoded1 - decoded0) / wall),
        receiverPresentedFps: round1(presentedFps(frames)),
        stages: engine === 'none' || !swapped.length ? null : {
          landmarksMs: stage(swapped.map((s) => s.landmarksMs)),
          engineMs: stage(swapped.map((s) => s.engineMs)),
          pasteMs: stage(swapped.map((s) => s.pasteMs)),
        },
        rtc: {
          encodeMs: per(tx1.totalEncodeTime - tx0.totalEncodeTime, tx1.framesEncoded - tx0.framesEncoded),
          sendDelayMs: per(tx1.packetSendDelay - tx0.packetSendDelay, tx1.packetsSent - tx0.packetsSent),
          qualityLimitation: tx1.qualityLimitation, sentWidth: tx1.sentWidth,
          decodeMs: per(rx1.totalDecodeTime - rx0.totalDecodeTime, rx1.framesDecoded - rx0.framesDecoded),
          jitterBufferMs: per(rx1.jitterBufferDelay - rx0.jitterBufferDelay, rx1.jitterBufferEmitted - rx0.jitterBufferEmitted),
        },
        latencyMs: { ...stage(lat), frames: lat.length },
        heapMiB: round1(memory.heap / 2 ** 20),
        workersMiB: memory.workers === null ? null : round1(memory.workers / 2 ** 20),
        pageMiB: memory.page === null ? null : round1(memory.page / 2 ** 20),
      };
      return { phase, frames };
    };

    /** Chooses the photo while `engine` swaps `IDENTITY` (whose looks are `swappedRefs`), and watches the receiver's output. */
    const switchIdentity = async (engine: EngineName, rawRefs: Map<number, number[]>, swappedRefs: Map<number, number[]>): Promise<SwitchResult> => {
      await collect();
      const { tClick, tSelected } = await sender.page.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const file = new File([bytes], 'photo.jpg', { type: 'image/jpeg' });
        const fc = window.__guise.faceChoice;
        let before: string | null = null;
        fc.subscribe((s) => { before = s.selected; })();
        let tSelected = NaN;
        const off = fc.subscribe((s) => {
          if (Number.isNaN(tSelected) && s.selected !== before) tSelected = performance.timeOrigin + performance.now();
        });
        const tClick = performance.timeOrigin + performance.now();
        try { await fc.upload(file, true); } finally { off(); }
        return { tClick, tSelected };
      }, photo);
      await sleep(Math.max(0, tSelected + SWITCH_WATCH_MS - Date.now()));
      const { stats, frames } = await collect();
      const newRefs = refsByStamp(frames.filter((f) => f.t > tSelected + SWITCH_SETTLED_MS));
      const looks = { old: swappedRefs, raw: rawRefs, new: newRefs };
      const after = frames.filter((f) => f.t > tSelected);
      const firstNew = after.find((f) => classify(f, looks, LOOP) === 'new');
      const spanEnd = tSelected + SWITCH_SETTLED_MS;
      return {
        engine,
        prepareMs: Math.round(tSelected - tClick),
        maxGapMs: Math.round(maxGap(frames, tClick, spanEnd)),
        minFps: minFps(frames, tClick, spanEnd),
        oldFaceFrames: after.filter((f) => classify(f, looks, LOOP) === 'old').length,
        newFaceAfterMs: firstNew ? Math.round(firstNew.t - tSelected) : null,
        senderMinFpsOut: Math.min(...stats.filter((s) => s.t > tClick && s.t < spanEnd + 1000).map((s) => s.fpsOut)),
      };
    };

    const phases: CallPhase[] = [];
    const switches: CallBenchResult['switches'] = [];
    const looks = new Map<EngineName, Map<number, number[]>>();
    const select = (id: string | null) => sender.page.evaluate((id) => window.__guise.faceChoice.select(id), id);
    const setEngine = (kind: 'mesh' | 'idn') => sender.page.evaluate((kind) => window.__guise.faceChoice.setEngine(kind), kind);

    // Swap off: the pipeline runs, passing frames through.
    await select(null);
    await sleep(3000);
    const off = await measure('none');
    phases.push(off.phase);
    looks.set('none', refsByStamp(off.frames));

    for (const engine of ['mesh', 'idn'] as const) {
      await select(IDENTITY);
      await setEngine(engine);
      await waitForSwapping(sender.page, engine, IDENTITY, 180_000);
      await sleep(3000);
      const on = await measure(engine);
      phases.push(on.phase);
      looks.set(engine, refsByStamp(on.frames));
      try {
        switches.push(await switchIdentity(engine, looks.get('none')!, looks.get(engine)!));
      } catch (err) {
        switches.push({ engine, error: (err as Error).message });
      }
    }

    // A fresh sender page joining with idn and the sample chosen, the model and pack already cached.
    let join: CallBenchResult['join'];
    try {
      await collect();
      await sender.page.goto(`${server.url}/?room=${room}&name=${SENDER}&autojoin=1&engine=idn&identity=${IDENTITY}`, { waitUntil: 'commit' });
      await sender.page.waitForFunction(() => performance.getEntriesByName('guise:signaling-connected').length > 0, undefined, { timeout: 60_000 });
      const { timeOrigin, connectedAt } = await sender.page.evaluate(() => ({
        timeOrigin: performance.timeOrigin,
        connectedAt: performance.timeOrigin + performance.getEntriesByName('guise:signaling-connected')[0]!.startTime,
      }));
      const raw = looks.get('none')!;
      const swapGap = swapDistance(looks.get('idn')!, raw);
      const frames: PresentedFrame[] = [];
      let first: number | null = null;
      for (const deadline = Date.now() + 60_000; first === null && Date.now() < deadline;) {
        await sleep(500);
        frames.push(...(await takeReceiver(rx.page)).filter((f) => f.t >= connectedAt));
        const run = frames.findIndex((_, i) => i + 2 < frames.length
          && [0, 1, 2].every((k) => looksSwapped(frames[i + k]!, raw, swapGap, LOOP)));
        if (run >= 0) first = frames[run]!.t;
      }
      join = {
        engine: 'idn',
        loadToConnectedMs: Math.round(connectedAt - timeOrigin),
        connectedToFirstSwappedMs: first === null ? null : Math.round(first - connectedAt),
      };
    } catch (err) {
      join = { engine: 'idn', error: (err as Error).message };
    }

    const versusOff = phases.filter((p) => p.engine !== 'none').map((p) => ({
      engine: p.engine,
      senderFpsRatio: +(p.senderFpsOut / off.phase.senderFpsOut).toFixed(2),
      receiverFpsRatio: +(p.receiverDecodedFps / off.phase.receiverDecodedFps).toFixed(2),
      addedLatencyMs: Math.round(p.latencyMs.p50 - off.phase.latencyMs.p50),
    }));
    return { phases, versusOff, switches, join, stampReadShare: +(stampsRead / Math.max(1, framesSeen)).toFixed(3) };
  } finally {
    await Promise.all([sender.close(), receiver?.close()]);
  }
}
