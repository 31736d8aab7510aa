// The app's guide warp (face/src/triangleWarp.ts) from the command line,
// for the parity test against warp.py (models/tests/test_guide_parity.py):
//
//   pnpm exec tsx models/teacher/warpCli.ts JOBS.json
//
// JOBS.json: [{ src, srcWidth, srcHeight, srcXY: [[x, y], ...], dstXY, width, height, out }]
// src is raw RGB uint8 (srcHeight × srcWidth × 3); out receives what the app
// feeds the generator after the target RGB: float32 little-endian planes
// R, G, B in [0, 1] and the mask in {0, 1}, each height × width.
import { readFileSync, writeFileSync } from 'node:fs';
import { triangles } from '@guise/face/mesh';
import { TriangleWarp } from '@guise/face/triangleWarp';

interface Job {
  src: string; srcWidth: number; srcHeight: number;
  srcXY: number[][]; dstXY: number[][];
  width: number; height: number;
  out: string;
}

const [jobsPath] = process.argv.slice(2);
if (!jobsPath) {
  console.error('usage: warpCli.ts JOBS.json');
  process.exit(2);
}
const jobs = JSON.parse(readFileSync(jobsPath, 'utf8')) as Job[];
for (const job of jobs) {
  const data = new Uint8Array(readFileSync(job.src));
  if (data.length !== job.srcWidth * job.srcHeight * 3) throw new Error(`${job.src}: ${data.length} bytes, expected ${job.srcWidth}×${job.srcHeight}×3`);
  const warp = new TriangleWarp(job.width, job.height, triangles());
  const out = new Float32Array(4 * job.width * job.height);
  const t = performance.now();
  const covered = warp.warp({ data, width: job.srcWidth, height: job.srcHeight, channels: 3 }, job.srcXY.flat(), job.dstXY.flat(), out);
  const ms = performance.now() - t;
  writeFileSync(job.out, new Uint8Array(out.buffer)); // little-endian on every host Node runs on here
  console.log(JSON.stringify({ out: job.out, covered, ms: +ms.toFixed(3) }));
}
