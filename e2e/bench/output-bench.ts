// The output page's cost in latency: one stamped sender in a call, watched at
// the same time by a call participant's tile and by the output page (/output,
// a WHEP player in a browser without a camera, as OBS runs it). Both read the
// frame numbers burned into the sender's camera (lib/frameStamp.ts), so each
// gets its own glass-to-glass latency from the same camera frames; the row is
// the difference. Two phases: the output page as a tile link opens it (video
// only), then with &audio=1 (its video then waits for lip sync, as the tile's
// does: the tile plays the person's audio and video as one stream). The swap is
// off: what is measured is the path, not the swap.
import type { Page } from 'playwright-core';
import { joinCall, launchParticipant, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { stampReaderScript } from '../lib/frameStamp.ts';
import type { RunningServer } from '../lib/server.ts';
import { fakeCamera, stampedCamera } from '../lib/y4m.ts';
import { CameraLog, latencies, percentile, presentedFps, round1 } from './call-analysis.ts';
import { receiverProbe, senderProbe, THUMB, type CameraFrame, type PresentedFrame } from './call-pages.ts';

const SENDER = 'Sender';
const CAMERA_SECONDS = 6;

export interface ViewLatency { presentedFps: number; latencyMs: { p50: number; p95: number; frames: number } }
export interface OutputBenchPhase {
  /** The output page's options in this phase. */
  output: 'video only' | 'audio=1';
  seconds: number;
  callTile: ViewLatency;
  outputPage: ViewLatency;
  /** Output page p50 − call tile p50 (ms): what the output page adds. */
  addedMsP50: number;
}
export interface OutputBenchResult { phases: OutputBenchPhase[] }

const take = <T>(page: Page, key: '__tx' | '__rx') => page.evaluate((k) => {
  const g = window as unknown as Record<string, { stamps?: unknown[]; frames?: unknown[] }>;
  const box = g[k]!;
  const out = box.stamps ?? box.frames ?? [];
  if (box.stamps) box.stamps = []; else box.frames = [];
  return out;
}, key) as Promise<T[]>;

function view(frames: PresentedFrame[], camera: CameraLog): ViewLatency {
  const lat = latencies(frames, camera);
  return { presentedFps: round1(presentedFps(frames)), latencyMs: { p50: round1(percentile(lat, 50)), p95: round1(percentile(lat, 95)), frames: lat.length } };
}

export async function benchOutput(server: RunningServer, seconds: number): Promise<OutputBenchResult> {
  const room = `bench-output-${Date.now().toString(36)}`;
  const people: Participant[] = [];
  try {
    const sender = await launchParticipant(stampedCamera('glasses', CAMERA_SECONDS));
    people.push(sender);
    const tile = await launchParticipant(fakeCamera('talking'));
    people.push(tile);
    const output = await launchParticipant(fakeCamera('talking'), { denyMedia: true });
    people.push(output);
    await sender.page.addInitScript({ content: stampReaderScript });
    await sender.page.addInitScript(senderProbe);
    for (const [p, selector] of [[tile, undefined], [output, '[data-testid="output-video"]']] as const) {
      await p.page.addInitScript({ content: stampReaderScript });
      await p.page.addInitScript(receiverProbe, [THUMB.w, THUMB.h, selector] as const);
    }
    await joinCall(sender.page, server.url, room, SENDER);
    await joinCall(tile.page, server.url, room, 'Tile');
    await waitForRemoteVideo(tile.page, SENDER);
    const phases: OutputBenchPhase[] = [];
    for (const [mode, extra] of [['video only', ''], ['audio=1', '&audio=1']] as const) {
      await output.page.goto(`${server.url}/output?room=${room}&peer=${SENDER}${extra}`, { waitUntil: 'commit' });
      await output.page.waitForSelector('body[data-state="live"]', { timeout: 60_000 });
      // Both views settle, then everything before now is dropped.
      await new Promise((r) => setTimeout(r, 3000));
      await Promise.all([take(sender.page, '__tx'), take(tile.page, '__rx'), take(output.page, '__rx')]);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const camera = new CameraLog();
      camera.add(await take<CameraFrame>(sender.page, '__tx'));
      const callTile = view(await take<PresentedFrame>(tile.page, '__rx'), camera);
      const outputPage = view(await take<PresentedFrame>(output.page, '__rx'), camera);
      phases.push({
        output: mode, seconds: round1((performance.now() - t0) / 1000), callTile, outputPage,
        addedMsP50: round1(outputPage.latencyMs.p50 - callTile.latencyMs.p50),
      });
    }
    return { phases };
  } finally {
    await Promise.all(people.map((p) => p.close()));
  }
}

export function printOutput(result: OutputBenchResult | { error: string }): void {
  console.log('\nOutput page (/output, WHEP) vs the call tile, same sender and frames, swap off:');
  if ('error' in result) { console.log(result.error); return; }
  console.table(result.phases.flatMap((p) => [
    { 'output page': p.output, view: 'call tile', fps: p.callTile.presentedFps, 'latency p50 ms': p.callTile.latencyMs.p50, 'p95 ms': p.callTile.latencyMs.p95, frames: p.callTile.latencyMs.frames, 'added p50 ms': '' },
    { 'output page': p.output, view: 'output page', fps: p.outputPage.presentedFps, 'latency p50 ms': p.outputPage.latencyMs.p50, 'p95 ms': p.outputPage.latencyMs.p95, frames: p.outputPage.latencyMs.frames, 'added p50 ms': p.addedMsP50 },
  ]));
}
