// `pnpm exec tsx models/data/prepare.ts [--force] [--limit N] [--out DIR] [--batch N]`
//
// Training-data prep for the face swap: runs the app's own FaceLandmarker
// (tasks-vision in headless Chromium, the same .task model as the client)
// over the shared face sets, rejects photos with the app's own identity-photo
// rules (checkPhotoFile / checkPhotoDimensions / checkFaces), aligns every
// accepted face with the app's own five keypoints and ArcFace template
// (fivePoints + alignmentFor) at 128 and 224, and writes to a cache outside
// the repo (see models/data/README.md for the file formats):
//   crops128.u8  N×128×128×3 uint8 RGB     crops224.u8  N×224×224×3 uint8 RGB
//   landmarks.f32  N×478×3 float32, in the 224 crop's pixel coordinates
//   index.json  one row per crop (file, dataset, identity, split, toCrop224)
//   report.json  counts per split, rejects by reason, input hash, timing
// Idempotent: a finished output whose report.json carries the same input hash
// is left alone (pass --force to redo it).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { affineScale, alignmentFor, applyAffine, type Affine } from '@guise/face/align';
import { fivePoints, LANDMARKS_WITH_IRIS } from '@guise/face/keypoints';
import { checkFaces, checkPhotoDimensions, checkPhotoFile, type PhotoProblemCode } from '@guise/face/photo';
import { visionWasmDir } from '@guise/face/pageBundle';
import { faceBoxes, mimeOf, openLandmarkerPage, type LandmarkerWindow } from '@guise/scripts/face/headlessLandmarker';
import { groupPairs, splitIdentities, type Split } from './split.ts';

const VERSION = 'faces-v1.1';
const SEED = 'guise-faces-v1';
const SIZES = [128, 224] as const;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const facesDir = process.env.GUISE_FACES ?? path.resolve(root, '../shared/data/faces');
const modelFile = path.join(root, 'models/face_landmarker/face_landmarker.task');

interface Photo { file: string; rel: string; dataset: 'celeba' | 'deepface'; identity: string }
type RejectReason = PhotoProblemCode | 'detector_error' | 'unlabeled' | 'missing' | 'alignment_failed';
interface Row { file: string; dataset: string; identity: string; split: Split; toCrop224: number[] }

function args() {
  const a = process.argv.slice(2);
  const value = (name: string) => { const i = a.indexOf(name); return i >= 0 ? a[i + 1] : undefined; };
  const limit = value('--limit') ? Number(value('--limit')) : undefined;
  const cache = process.env.GUISE_CACHE ?? path.join(os.homedir(), '.cache/guise');
  return {
    force: a.includes('--force'),
    limit,
    batch: Number(value('--batch') ?? 50),
    out: path.resolve(value('--out') ?? path.join(cache, limit ? `faces-v1-limit${limit}` : 'faces-v1')),
  };
}

const readCsv = (file: string) => fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(1).map((l) => l.split(',').map((c) => c.trim()));

/** Every candidate photo with its identity label; photos that can't be labelled are rejected up front. */
function listPhotos(rejects: { file: string; reason: RejectReason }[]): Photo[] {
  const photos: Photo[] = [];
  const celeba = path.join(facesDir, 'celeba-subset');
  const labels = new Map(readCsv(path.join(celeba, 'identities.csv')).map(([image, id]) => [image!, id!]));
  const images = new Set(fs.readdirSync(path.join(celeba, 'images')).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)));
  for (const image of [...images].sort()) {
    const id = labels.get(image);
    if (id === undefined) { rejects.push({ file: `celeba-subset/images/${image}`, reason: 'unlabeled' }); continue; }
    photos.push({ file: path.join(celeba, 'images', image), rel: `celeba-subset/images/${image}`, dataset: 'celeba', identity: `celeba:${id}` });
  }
  for (const image of [...labels.keys()].sort()) {
    if (!images.has(image)) rejects.push({ file: `celeba-subset/images/${image}`, reason: 'missing' });
  }
  const deepface = path.join(facesDir, 'deepface-pairs');
  const files = fs.readdirSync(deepface).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
  const master = path.join(deepface, 'master.csv');
  const yes = fs.existsSync(master)
    ? readCsv(master).filter((r) => r[2]?.toLowerCase() === 'yes').map((r) => [r[0]!, r[1]!] as [string, string])
    : [];
  const groups = groupPairs(files, yes);
  for (const f of files) {
    photos.push({ file: path.join(deepface, f), rel: `deepface-pairs/${f}`, dataset: 'deepface', identity: `deepface:${groups.get(f)}` });
  }
  return photos;
}

function inputHash(photos: Photo[], limit?: number): string {
  const h = crypto.createHash('sha256');
  h.update(`${VERSION}\n${SEED}\nlimit=${limit ?? ''}\n`);
  for (const f of [modelFile, path.join(visionWasmDir, '../package.json')]) h.update(`${path.basename(f)}:${fs.statSync(f).size}\n`);
  for (const p of photos) {
    const s = fs.statSync(p.file);
    h.update(`${p.rel}\t${p.identity}\t${s.size}\t${Math.round(s.mtimeMs)}\n`);
  }
  return h.digest('hex');
}


async function main() {
  const opts = args();
  const rejects: { file: string; reason: RejectReason }[] = [];
  let photos = listPhotos(rejects);
  if (opts.limit && opts.limit < photos.length) {
    const stride = photos.length / opts.limit; // even sample over both sets
    photos = Array.from({ length: opts.limit }, (_, i) => photos[Math.floor(i * stride)]!);
  }
  const hash = inputHash(photos, opts.limit);
  const reportFile = path.join(opts.out, 'report.json');
  if (!opts.force && fs.existsSync(reportFile)) {
    const old = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    const n = old.rows as number;
    const complete = old.inputHash === hash && [['crops128.u8', n * 128 * 128 * 3], ['crops224.u8', n * 224 * 224 * 3], ['landmarks.f32', n * LANDMARKS_WITH_IRIS * 3 * 4]]
      .every(([f, size]) => fs.statSync(path.join(opts.out, f as string), { throwIfNoEntry: false })?.size === size);
    if (complete) { console.log(`${opts.out} is up to date (${n} crops, input hash ${hash.slice(0, 12)}); --force to redo`); return; }
  }

  fs.mkdirSync(opts.out, { recursive: true });
  const tmp = path.join(opts.out, `.partial-${process.pid}`);
  fs.mkdirSync(tmp, { recursive: true });
  const out = {
    c128: fs.openSync(path.join(tmp, 'crops128.u8'), 'w'),
    c224: fs.openSync(path.join(tmp, 'crops224.u8'), 'w'),
    lm: fs.openSync(path.join(tmp, 'landmarks.f32'), 'w'),
  };
  const accepted: { photo: Photo; toCrop224: Affine }[] = [];
  const started = Date.now();
  let detectMs = 0;
  let cropMs = 0;

  const { page, close } = await openLandmarkerPage((key) => photos[Number(key)]?.file, 2);
  try {
    await page.evaluate(() => { (window as any).bitmaps = new Map(); });

    for (let start = 0; start < photos.length; start += opts.batch) {
      const batch: number[] = [];
      for (let i = start; i < Math.min(start + opts.batch, photos.length); i++) {
        const p = photos[i]!;
        const problem = checkPhotoFile({ type: mimeOf(p.file), size: fs.statSync(p.file).size, name: path.basename(p.file) });
        if (problem) rejects.push({ file: p.rel, reason: problem.code });
        else batch.push(i);
      }
      let t = Date.now();
      const found = await page.evaluate(async (indices) => {
        const w = window as unknown as LandmarkerWindow & { bitmaps: Map<number, ImageBitmap> };
        const results = [];
        for (const i of indices) {
          let bitmap: ImageBitmap;
          try { bitmap = await createImageBitmap(await (await fetch(`/img/${i}`)).blob()); } catch { results.push({ i, error: 'undecodable' }); continue; }
          w.bitmaps.set(i, bitmap);
          try {
            const faces = w.landmarker.detect(bitmap).faceLandmarks as { x: number; y: number; z: number }[][];
            results.push({ i, width: bitmap.width, height: bitmap.height, faces: faces.map((f) => f.flatMap((p) => [p.x, p.y, p.z])) });
          } catch (e) {
            results.push({ i, error: 'detector_error', message: String(e) });
          }
        }
        return results;
      }, batch);
      detectMs += Date.now() - t;

      const jobs: { i: number; m: Affine[] }[] = [];
      const jobLandmarks: Float32Array[] = [];
      for (const r of found) {
        const p = photos[r.i]!;
        if ('error' in r) { rejects.push({ file: p.rel, reason: r.error as RejectReason }); continue; }
        const { width, height } = r;
        const faces = r.faces!.map((flat) => Array.from({ length: flat.length / 3 }, (_, k) => ({ x: flat[3 * k]!, y: flat[3 * k + 1]!, z: flat[3 * k + 2]! })));
        const problem = checkPhotoDimensions(width!, height!) ?? checkFaces(faceBoxes(faces, width!, height!), width!, height!);
        if (problem) { rejects.push({ file: p.rel, reason: problem.code }); continue; }
        const face = faces[0]!;
        let m: Affine[];
        try {
          const five = fivePoints(face, width!, height!);
          m = SIZES.map((s) => alignmentFor(five, s).toCrop);
        } catch { rejects.push({ file: p.rel, reason: 'alignment_failed' }); continue; }
        const m224 = m[1]!;
        const zScale = width! * affineScale(m224);
        const lm = new Float32Array(LANDMARKS_WITH_IRIS * 3);
        for (let k = 0; k < LANDMARKS_WITH_IRIS; k++) {
          const [x, y] = applyAffine(m224, [face[k]!.x * width!, face[k]!.y * height!]);
          lm[3 * k] = x; lm[3 * k + 1] = y; lm[3 * k + 2] = face[k]!.z * zScale;
        }
        jobs.push({ i: r.i, m });
        jobLandmarks.push(lm);
      }

      t = Date.now();
      const crops = await page.evaluate(async ({ jobs, sizes, all }) => {
        const w = window as unknown as LandmarkerWindow & { bitmaps: Map<number, ImageBitmap> };
        const canvases = sizes.map((s) => {
          const c = new OffscreenCanvas(s, s);
          return { s, ctx: c.getContext('2d', { willReadFrequently: true })! };
        });
        const encoded: string[] = [];
        for (const job of jobs) {
          const bitmap = w.bitmaps.get(job.i)!;
          const parts: Uint8Array[] = [];
          canvases.forEach(({ s, ctx }, k) => {
            const m = job.m[k]!;
            w.face.drawAligned(ctx, bitmap, m);
            const rgba = ctx.getImageData(0, 0, s, s).data;
            const rgb = new Uint8Array(s * s * 3);
            for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) { rgb[q] = rgba[p]!; rgb[q + 1] = rgba[p + 1]!; rgb[q + 2] = rgba[p + 2]!; }
            parts.push(rgb);
          });
          const url: string = await new Promise((resolve) => {
            const reader = new FileReader();
            reader.onload = () => resolve(reader.result as string);
            reader.readAsDataURL(new Blob(parts as BlobPart[]));
          });
          encoded.push(url.slice(url.indexOf(',') + 1));
        }
        for (const i of all) { w.bitmaps.get(i)?.close(); w.bitmaps.delete(i); }
        return encoded;
      }, { jobs, sizes: [...SIZES], all: batch });
      cropMs += Date.now() - t;

      crops.forEach((b64, k) => {
        const bytes = Buffer.from(b64, 'base64');
        const n128 = 128 * 128 * 3;
        if (bytes.length !== n128 + 224 * 224 * 3) throw new Error(`crop of ${photos[jobs[k]!.i]!.rel} has ${bytes.length} bytes`);
        fs.writeSync(out.c128, bytes, 0, n128);
        fs.writeSync(out.c224, bytes, n128);
        const lm = jobLandmarks[k]!;
        fs.writeSync(out.lm, new Uint8Array(lm.buffer, lm.byteOffset, lm.byteLength));
        accepted.push({ photo: photos[jobs[k]!.i]!, toCrop224: jobs[k]!.m[1]! });
      });
      const done = Math.min(start + opts.batch, photos.length);
      const secs = (Date.now() - started) / 1000;
      console.log(`${done}/${photos.length} photos, ${accepted.length} crops, ${rejects.length} rejects, ${(1000 * secs / done).toFixed(1)} ms/photo`);
    }
  } finally {
    await close();
    Object.values(out).forEach((fd) => fs.closeSync(fd));
  }

  // Split on the identities that kept at least one photo, so the held-out floors hold for real crops.
  const split = splitIdentities(accepted.map((a) => a.photo.identity), { seed: SEED });
  const rows: Row[] = accepted.map(({ photo, toCrop224 }) => ({
    file: photo.rel, dataset: photo.dataset, identity: photo.identity, split: split.get(photo.identity)!, toCrop224: toCrop224.map((v) => +v.toFixed(6)),
  }));
  const per = (s: Split) => ({
    photos: rows.filter((r) => r.split === s).length,
    identities: [...split.values()].filter((v) => v === s).length,
    byDataset: Object.fromEntries(['celeba', 'deepface'].map((d) => [d, {
      photos: rows.filter((r) => r.split === s && r.dataset === d).length,
      identities: new Set(rows.filter((r) => r.split === s && r.dataset === d).map((r) => r.identity)).size,
    }])),
  });
  const byReason: Record<string, number> = {};
  for (const r of rejects) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
  const seconds = (Date.now() - started) / 1000;
  const report = {
    version: VERSION,
    inputHash: hash,
    createdAt: new Date().toISOString(),
    source: facesDir,
    limit: opts.limit ?? null,
    seed: SEED,
    inputs: photos.length + rejects.filter((r) => r.reason === 'unlabeled' || r.reason === 'missing').length,
    rows: rows.length,
    shapes: { crops128: [rows.length, 128, 128, 3], crops224: [rows.length, 224, 224, 3], landmarks: [rows.length, LANDMARKS_WITH_IRIS, 3] },
    splits: { train: per('train'), val: per('val'), test: per('test') },
    rejects: { total: rejects.length, byReason, files: rejects },
    timing: { seconds: +seconds.toFixed(1), msPerPhoto: +(1000 * seconds / photos.length).toFixed(1), detectMs, cropMs },
  };
  fs.writeFileSync(path.join(tmp, 'index.json'), JSON.stringify({ version: VERSION, inputHash: hash, rows }));
  fs.writeFileSync(path.join(tmp, 'report.json'), JSON.stringify(report, null, 2));
  for (const f of ['crops128.u8', 'crops224.u8', 'landmarks.f32', 'index.json', 'report.json']) { // report last: it marks completion
    fs.renameSync(path.join(tmp, f), path.join(opts.out, f));
  }
  fs.rmdirSync(tmp);
  console.log(JSON.stringify({ out: opts.out, rows: rows.length, splits: report.splits, rejects: byReason, timing: report.timing }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
