// The output page's cost in latency: one stamped sender in a call, watched at
// the same time by a call participant's tile and by the output page (/output,
// a WHEP player in a browser without a camera). Both read the frame numbers
// burned into the sender's camera (lib/frameStamp.ts), so each gets its own
// glass-to-glass latency from the same camera frames; the row is the
// difference. The swap is off: what is measured is the path, not the swap.
import type { Page } from 'playwright-core';
import { joinCall, launchParticipant, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { stampReaderScript } from '../lib/frameStamp.ts';
import type { RunningServer } from '../lib/server.ts';
import { fakeCamera, stampedCamera } from '../lib/y4m.ts';
import { CameraLog, latencies, percentile, presentedFps, round1 } from './call-analysis.ts';
import { receiverProbe, senderProbe, THUMB, type CameraFrame, type PresentedFrame } from './call-pages.ts';

const SENDER = 'Sender';
const CAMERA_SECONDS = 6;

export interface OutputBenchRow {
  /** Who watched: the call participant's tile, or the output page. */
  view: 'call tile' | 'output page';
  presentedFps: number;
  latencyMs: { p50: number; p95: number; frames: number };
}
export interface OutputBenchResult { seconds: number; rows: OutputBenchRow[]; addedLatencyMsP50: number }

const take = <T>(page: Page, key: '__tx' | '__rx') => page.evaluate((k) => {
  const g = window as unknown as Record<string, { stamps?: unknown[]; frames?: unknown[] }>;
  const box = g[k]!;
  const out = box.stamps ?? box.frames ?? [];
  if (box.stamps) box.stamps = []; else box.frames = [];
  return out;
}, key) as Promise<T[]>;

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
    await output.page.goto(`${server.url}/output?room=${room}&peer=${SENDER}`, { waitUntil: 'commit' });
    await output.page.waitForSelector('body[data-state="live"]', { timeout: 60_000 });
    // Both views warm up, then everything before now is dropped.
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.all([take(sender.page, '__tx'), take(tile.page, '__rx'), take(output.page, '__rx')]);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const camera = new CameraLog();
    camera.add(await take<CameraFrame>(sender.page, '__tx'));
    const views = { 'call tile': await take<PresentedFrame>(tile.page, '__rx'), 'output page': await take<PresentedFrame>(output.page, '__rx') };
    const rows = (Object.entries(views) as [OutputBenchRow['view'], PresentedFrame[]][]).map(([view, frames]) => {
      const lat = latencies(frames, camera);
      return { view, presentedFps: round1(presentedFps(frames)), latencyMs: { p50: round1(percentile(lat, 50)), p95: round1(percentile(lat, 95)), frames: lat.length } };
    });
    return { seconds: round1((performance.now() - t0) / 1000), rows, addedLatencyMsP50: round1(rows[1]!.latencyMs.p50 - rows[0]!.latencyMs.p50) };
  } finally {
    await Promise.all(people.map((p) => p.close()));
  }
}

export function printOutput(result: OutputBenchResult | { error: string }): void {
  console.log('\nOutput page (/output, WHEP) vs the call tile, same sender, same frames, swap off:');
  if ('error' in result) { console.log(result.error); return; }
  console.table(result.rows.map((r) => ({ view: r.view, 'presented fps': r.presentedFps, 'latency p50 ms': r.latencyMs.p50, 'latency p95 ms': r.latencyMs.p95, frames: r.latencyMs.frames })));
  console.log(`output page adds ${result.addedLatencyMsP50} ms (p50) over the call tile`);
}
