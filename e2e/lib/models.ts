// Model files made at test time: the random-weight IDN export is 85 MB (its
// conditioner alone is 82 MB), so it is built by the Python exporter into the
// cache rather than committed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, repoRoot } from './paths.ts';

const models = path.join(repoRoot, 'models');
const python = () => execFileSync('bash', [path.join(models, 'setup.sh')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;

/**
 * The random-weight export for `crop` (seed 0), with torch's outputs on fixed
 * inputs beside it (fixture/). `guide` 4 is the warp-guided variant (target
 * input RGB + warped source RGB + its mask): exported without the fixture,
 * which models/idn/fixture.py makes for the 3-channel model only.
 */
export function randomIdnModel(crop = 128, guide: 0 | 4 = 0): string {
  const out = path.join(cacheDir, guide ? `idn-random-${crop}-guide${guide}` : `idn-random-${crop}`);
  const files = ['identity.onnx', 'conditioner.onnx', 'generator.onnx', 'manifest.json', ...(guide ? [] : ['fixture/fixture.json'])];
  if (files.every((f) => fs.existsSync(path.join(out, f)))) return out;
  const py = python();
  execFileSync(py, ['-m', 'idn.export', '--crop', String(crop), '--guide', String(guide), '--seed', '0', '--out', out], { cwd: models, stdio: 'inherit' });
  if (!guide) execFileSync(py, ['-m', 'idn.fixture', '--crop', String(crop), '--seed', '0', '--out', path.join(out, 'fixture')], { cwd: models, stdio: 'inherit' });
  return out;
}

export interface Fixture { crop: number; tensors: Record<string, { shape: number[]; data: Float32Array }> }

/** Torch's inputs and outputs for the export in `dir` (see models/idn/fixture.py). */
export function readFixture(dir: string): Fixture {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'fixture/fixture.json'), 'utf8')) as { crop: number; tensors: Record<string, { file: string; shape: number[] }> };
  const tensors: Fixture['tensors'] = {};
  for (const [name, t] of Object.entries(index.tensors)) {
    const buf = fs.readFileSync(path.join(dir, 'fixture', t.file));
    tensors[name] = { shape: t.shape, data: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice() };
  }
  return { crop: index.crop, tensors };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
