// Swap pipeline benchmark: per-stage milliseconds and frame rates of the face
// swap running in the worker on a fake camera, per engine, all in one run.
import { launchParticipant } from '../lib/browser.ts';
import type { RunningServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';

export interface SwapBenchResult {
  engine: string;
  seconds: number;
  fpsIn: number;
  fpsOut: number;
  landmarksMs: number;
  engineMs: number;
  pasteMs: number;
  droppedPerSecond: number;
  /** Engine + paste-back time relative to FaceLandmarker's, measured in the same frames. */
  engineToLandmarksRatio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function benchSwap(server: RunningServer, seconds: number): Promise<SwapBenchResult[]> {
  const p = await launchParticipant(fakeCamera('glasses'));
  try {
    await p.page.goto(`${server.url}/?room=bench-swap&name=Bench&identity=sample:astronaut`);
    // Warm up: the model loads, the identity is prepared, the face is tracked.
    await p.page.waitForFunction(() => {
      let s: { stats: { faceFound: boolean } | null; selected: string | null } | undefined;
      window.__guise.faceChoice.subscribe((v) => { s = v; })();
      return s?.selected === 'sample:astronaut' && s.stats?.faceFound;
    }, undefined, { timeout: 60_000 });
    const samples = await p.page.evaluate((ms) => new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      const off = window.__guise.faceChoice.subscribe((v) => { if (v.stats) got.push(v.stats); });
      setTimeout(() => { off(); resolve(got); }, ms);
    }), seconds * 1000) as { fpsIn: number; fpsOut: number; landmarksMs: number; engineMs: number; pasteMs: number; dropped: number; faceFound: boolean }[];
    const found = samples.filter((s) => s.faceFound);
    const pick = (k: 'fpsIn' | 'fpsOut' | 'landmarksMs' | 'engineMs' | 'pasteMs' | 'dropped') => +median(found.map((s) => s[k])).toFixed(1);
    const r = {
      engine: 'mesh', seconds, fpsIn: pick('fpsIn'), fpsOut: pick('fpsOut'), landmarksMs: pick('landmarksMs'),
      engineMs: pick('engineMs'), pasteMs: pick('pasteMs'), droppedPerSecond: pick('dropped'),
    };
    return [{ ...r, engineToLandmarksRatio: +((r.engineMs + r.pasteMs) / r.landmarksMs).toFixed(2) }];
  } finally {
    await p.close();
  }
}
