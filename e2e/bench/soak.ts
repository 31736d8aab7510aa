// A soak: a 3-person call with the swap on (mesh) for SOAK_MINUTES (default
// 10), reporting at the start and the end the server's RSS (node + mediasoup
// workers), each browser's JS heap, and the VideoFrames open (held by each
// camera worker, and made but not closed by each page's scripts). Not part of
// the tests: run it with `pnpm --filter @guise/e2e soak`. Writes JSON.
import fs from 'node:fs';
import path from 'node:path';
import { joinCall, launchParticipant, openPageVideoFrames, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { repoRoot } from '../lib/paths.ts';
import { sampleTree } from '../lib/procstat.ts';
import { startServer } from '../lib/server.ts';
import { swapState, waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera, type CameraName } from '../lib/y4m.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const cameras: CameraName[] = ['glasses', 'talking', 'studio'];
const IDENTITY = 'sample:astronaut';

interface Reading {
  atMinutes: number;
  serverRssMiB: number;
  /** Per participant: JS heap (MiB), VideoFrames its camera worker holds, VideoFrames its page's scripts left open, fps out. */
  people: { heapMiB: number; framesHeld: number | null; pageFramesOpen: number; fpsOut: number | null }[];
}

async function read(people: Participant[], pid: number, t0: number): Promise<Reading> {
  const out: Reading['people'] = [];
  for (const p of people) {
    const heap = await p.page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
    const stats = (await swapState(p.page)).stats;
    out.push({
      heapMiB: +(heap / 2 ** 20).toFixed(1),
      framesHeld: stats?.framesHeld ?? null,
      pageFramesOpen: await openPageVideoFrames(p.page),
      fpsOut: stats?.fpsOut ?? null,
    });
  }
  return { atMinutes: +((performance.now() - t0) / 60_000).toFixed(1), serverRssMiB: +(sampleTree(pid).rssBytes / 2 ** 20).toFixed(1), people: out };
}

const server = await startServer({ LOG_LEVEL: 'warn' });
const room = `soak-${Date.now().toString(36)}`;
const people: Participant[] = [];
try {
  for (const camera of cameras) people.push(await launchParticipant(fakeCamera(camera), { extraArgs: ['--enable-precise-memory-info'] }));
  for (const [i, p] of people.entries()) {
    await joinCall(p.page, server.url, room, `P${i}`);
    await p.page.evaluate((id) => window.__guise.faceChoice.select(id), IDENTITY);
  }
  for (const [i, p] of people.entries()) {
    for (let j = 0; j < people.length; j++) if (j !== i) await waitForRemoteVideo(p.page, `P${j}`);
    await waitForSwapping(p.page, 'mesh', IDENTITY);
  }
  const pid = server.process.pid!;
  const t0 = performance.now();
  const readings = [await read(people, pid, t0)];
  while (performance.now() - t0 < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, 60_000));
    readings.push(await read(people, pid, t0));
  }
  const out = path.join(repoRoot, 'bench-results/soak.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), minutes: MINUTES, readings }, null, 2));
  console.log(`Soak: 3-person call, mesh swap on, ${MINUTES} min`);
  console.table(readings.map((r) => ({
    minute: r.atMinutes, 'server RSS MiB': r.serverRssMiB,
    'JS heap MiB': r.people.map((p) => p.heapMiB).join(' / '),
    'frames held (workers)': r.people.map((p) => p.framesHeld).join(' / '),
    'page frames open': r.people.map((p) => p.pageFramesOpen).join(' / '),
    'fps out': r.people.map((p) => p.fpsOut).join(' / '),
  })));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await Promise.all(people.map((p) => p.close()));
  await server.stop();
}
