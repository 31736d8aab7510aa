// Model files made at test time: the random-weight IDN export is 85 MB (its
// conditioner alone is 82 MB), so it is built by the Python exporter into the
// cache rather than committed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, repoRoot } from './paths.ts';

export function randomIdnModel(crop = 128): string {
  const out = path.join(cacheDir, `idn-random-${crop}`);
  const files = ['identity.onnx', 'conditioner.onnx', 'generator.onnx', 'manifest.json'];
  if (files.every((f) => fs.existsSync(path.join(out, f)))) return out;
  const models = path.join(repoRoot, 'models');
  const python = execFileSync('bash', [path.join(models, 'setup.sh')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  execFileSync(python, ['-m', 'idn.export', '--crop', String(crop), '--guide', '0', '--out', out], { cwd: models, stdio: 'inherit' });
  return out;
}
