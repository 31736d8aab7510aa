// Landmarks for a folder of images with the app's own FaceLandmarker (IMAGE
// mode, one face): `tsx scripts/face/landmarksCli.ts DIR OUT.f32`. Writes
// float32 [N, 478, 2] in pixels for DIR's *.png / *.jpg in sorted name order,
// NaN rows where no face was found, and OUT.f32.json with the file names.
import fs from 'node:fs';
import path from 'node:path';
import { openLandmarkerPage, type LandmarkerWindow } from './headlessLandmarker.ts';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: tsx scripts/face/landmarksCli.ts DIR OUT.f32');
  process.exit(2);
}
const files = fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
const points = new Float32Array(files.length * 478 * 2).fill(NaN);
const { page, close } = await openLandmarkerPage((key) => (files[Number(key)] ? path.join(dir, files[Number(key)]!) : undefined), 1);
try {
  const batch = 50;
  for (let start = 0; start < files.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, files.length - start) }, (_, k) => start + k);
    const found = await page.evaluate(async (indices) => {
      const w = window as unknown as LandmarkerWindow;
      const results: { i: number; xy: number[] | null }[] = [];
      for (const i of indices) {
        const bitmap = await createImageBitmap(await (await fetch(`/img/${i}`)).blob());
        const face = w.landmarker.detect(bitmap).faceLandmarks[0];
        results.push({ i, xy: face ? face.flatMap((p) => [p.x * bitmap.width, p.y * bitmap.height]) : null });
        bitmap.close();
      }
      return results;
    }, indices);
    for (const { i, xy } of found) if (xy) points.set(xy, i * 478 * 2);
  }
} finally {
  await close();
}
fs.writeFileSync(out, Buffer.from(points.buffer));
fs.writeFileSync(`${out}.json`, JSON.stringify({ files }, null, 0));
console.log(`${files.length} images, ${files.filter((_, i) => !Number.isNaN(points[i * 956])).length} with a face → ${out}`);
