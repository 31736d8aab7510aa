// pnpm identity pack <photo> [--out FILE] [--model DIR] [--label NAME]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { GUIDE_FACE } from '@guise/face/idn/guide';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { decodePack } from '@guise/face/pack';
import { PackProblem, packPhoto } from './pack.ts';

const usage = 'usage: pnpm identity pack <photo.jpg|png|webp> [--out FILE.gpak] [--model DIR] [--label NAME]';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, model: { type: 'string' }, label: { type: 'string' } },
});
const [command, photo] = positionals;
if (command !== 'pack' || !photo) {
  console.error(usage);
  process.exit(2);
}
try {
  const bytes = await packPhoto(photo, { model: values.model, label: values.label });
  const out = values.out ?? photo.replace(/\.[^.]+$/, '') + '.gpak';
  fs.writeFileSync(out, bytes);
  const names = decodePack(bytes).tensors.map((t) => t.name);
  const guide = names.includes(GUIDE_FACE) ? ' + the warp guide\'s source' : '';
  console.log(`wrote ${out} (${(bytes.byteLength / 1024).toFixed(0)} KiB: ${IDENTITY_TENSORS.length} identity tensors, fp16${guide})`);
} catch (err) {
  console.error(err instanceof PackProblem ? `${err.problem.code}: ${err.message}` : `error: ${(err as Error).message}`);
  process.exit(1);
}
