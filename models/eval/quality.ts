// `pnpm eval:quality [--quick] [--idn NAME=DIR]… [--no-teacher] [--no-cache] [--sources N] [--targets N] [--frames N] [--out DIR]`
//
// The held-out quality table for the swap engines: on TEST-split identities
// (never seen in training) and source × target pairs of different people,
// each engine's identity transfer and expression/pose preservation, judged by
// a face-recognition model the app does not use (judge.ts),
// plus the landmark jitter its output adds on a face video. Writes
// bench-results/quality.json and bench-results/quality-contact.png and prints
// the table. See models/eval/README.md.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { checkFaces, checkPhotoDimensions, checkPhotoFile } from '@guise/face/photo';
import { cosine, embed } from './judge.ts';
import { mimeOf } from '@guise/scripts/face/headlessLandmarker';
import { openEvalPage, type EvalPage } from './browser.ts';
import { defaultCacheIndex, heldOutIdentities } from './data.ts';
import {
  formatTable, jitterRatio, mean, median, nme, selectPairs, summarise, type EngineSummary, type EvalIdentity, type Pair, type PairResult,
} from './metrics.ts';
import type { Analysis } from './page/entry.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheRoot = process.env.GUISE_CACHE ?? path.join(os.homedir(), '.cache/guise');

export interface QualityOptions {
  quick: boolean;
  /** Source identities, targets per source, video frames, contact-sheet rows. */
  sources: number;
  targets: number;
  frames: number;
  sheetRows: number;
  /** Targets given composited glasses and a hand, for the occlusion check. */
  occluded: number;
  /** IDN rows: name → model folder (absent folders give a skipped row). */
  idn: { name: string; dir: string }[];
  teacher: boolean;
  facesDir: string;
  video: string;
  /** The prepared faces cache's index.json (null: compute the split from the labels). */
  cacheIndex: string | null;
  /** Where quality.json and quality-contact.png go (null: nowhere). */
  outDir: string | null;
  log: (line: string) => void;
}

export const DEFAULT_IDN = [
  { name: 'idn-guided', dir: path.join(root, 'models/idn/trained-128-guided') },
  { name: 'idn-faithful', dir: path.join(root, 'models/idn/trained-128-faithful') },
];

export function defaultOptions(quick = false): QualityOptions {
  return {
    quick,
    sources: quick ? 8 : 34,
    targets: quick ? 1 : 4,
    frames: quick ? 20 : 90,
    sheetRows: quick ? 4 : 8,
    occluded: quick ? 4 : 16,
    idn: DEFAULT_IDN,
    teacher: true,
    facesDir: process.env.GUISE_FACES ?? path.resolve(root, '../shared/data/faces'),
    video: path.resolve(root, '../shared/data/videos/webcam-talking-lowres.mp4'),
    cacheIndex: defaultCacheIndex(),
    outDir: path.join(root, 'bench-results'),
    log: (line) => process.stderr.write(`[eval:quality] ${line}\n`),
  };
}

export function parseArgs(argv: string[]): QualityOptions {
  const quick = argv.includes('--quick');
  const o = defaultOptions(quick);
  const idn = [...o.idn];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--quick') continue;
    else if (a === '--idn') {
      const m = /^([\w.-]+)=(.+)$/.exec(value());
      if (!m) throw new Error('--idn takes NAME=DIR');
      const row = { name: m[1]!, dir: path.resolve(m[2]!.replace(/^~(?=\/)/, os.homedir())) };
      const at = idn.findIndex((r) => r.name === row.name);
      if (at >= 0) idn[at] = row; else idn.push(row);
    } else if (a === '--no-teacher') o.teacher = false;
    else if (a === '--no-cache') o.cacheIndex = null;
    else if (a === '--sources') o.sources = int();
    else if (a === '--targets') o.targets = int();
    else if (a === '--frames') o.frames = int();
    else if (a === '--sheet-rows') o.sheetRows = int();
    else if (a === '--occluded') o.occluded = int();
    else if (a === '--out') o.outDir = path.resolve(value());
    else if (a === '--faces') o.facesDir = path.resolve(value());
    else if (a === '--video') o.video = path.resolve(value());
    else throw new Error(`unknown argument ${a}`);
  }
  o.idn = idn;
  return o;
}

interface EngineRow {
  name: string;
  kind: 'none' | 'mesh' | 'teacher' | 'idn';
  dir?: string;
  skipped?: string;
  perPair: (PairResult & { analysis: Analysis })[];
  video?: { landmarks: (number[] | null)[]; ms: number[]; flicker: number };
  /** Share of occluder pixels kept, per occluded target. */
  occluderKept: number[];
  msPerSwap: number[];
  wallMs: number;
}

export interface QualityReport {
  table: string;
  rows: EngineSummary[];
  json: Record<string, unknown>;
}

const b64 = (s: string) => Uint8ClampedArray.from(Buffer.from(s, 'base64'));

async function judge(a: Analysis): Promise<Float32Array | null> {
  return a.crop ? embed({ crop: b64(a.crop) }) : null;
}

function pythonPath(): string {
  return process.env.GUISE_PYTHON ?? execFileSync('bash', [path.join(root, 'models/setup.sh')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

/** Video frames as PNGs (cached by video, mtime and count), at the app's camera size. */
function videoFrames(video: string, count: number): string[] {
  const st = fs.statSync(video);
  const dir = path.join(cacheRoot, 'eval', `${path.basename(video).replace(/\W+/g, '-')}-${st.mtimeMs | 0}-${count}`);
  const name = (i: number) => path.join(dir, `frame-${String(i + 1).padStart(4, '0')}.png`);
  if (!fs.existsSync(name(count - 1))) {
    fs.mkdirSync(dir, { recursive: true });
    // Native frame rate (a resampled one repeats frames, which reads as jitter); 640×480 as the fake camera gets it.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', video, '-an', '-frames:v', String(count), '-vf', 'scale=640:480:flags=lanczos,setsar=1', name(0).replace('0001', '%04d')]);
  }
  const frames = Array.from({ length: count }, (_, i) => name(i)).filter((f) => fs.existsSync(f));
  if (frames.length < 3) throw new Error(`${video}: only ${frames.length} frames decoded`);
  return frames;
}

/** Picks each identity's first two photos that pass the app's identity-photo rules (one face, big enough). */
async function screenPhotos(page: EvalPage, ids: EvalIdentity[], want: number, key: (file: string) => string, log: QualityOptions['log']): Promise<EvalIdentity[]> {
  const accepted = new Map<string, string[]>(ids.map((i) => [i.identity, []]));
  const next = new Map<string, number>(ids.map((i) => [i.identity, 0]));
  const MAX_TRIES = 40, PER_ROUND = 4;
  let usable: EvalIdentity[] = [];
  for (let round = 0; round < MAX_TRIES / PER_ROUND; round++) {
    // Identities still needed: those in the first `want` usable ones that lack a second photo, or to replace unusable ones.
    usable = ids.filter((i) => accepted.get(i.identity)!.length > 0 || next.get(i.identity)! < Math.min(MAX_TRIES, i.photos.length));
    const needed = usable.slice(0, want).filter((i) => accepted.get(i.identity)!.length < 2 && next.get(i.identity)! < Math.min(MAX_TRIES, i.photos.length));
    if (!needed.length) break;
    const batch: { identity: string; file: string }[] = [];
    for (const i of needed) {
      const from = next.get(i.identity)!;
      for (const file of i.photos.slice(from, from + PER_ROUND)) batch.push({ identity: i.identity, file });
      next.set(i.identity, from + PER_ROUND);
    }
    const files = batch.filter((b) => !checkPhotoFile({ type: mimeOf(b.file), size: fs.statSync(b.file).size, name: path.basename(b.file) }));
    const found = await page.api('screen', files.map((b) => key(b.file)));
    const rejected: string[] = [];
    files.forEach((b, k) => {
      const r = found[k]!;
      const ok = !r.error && !checkPhotoDimensions(r.width, r.height) && !checkFaces(r.boxes, r.width, r.height);
      const list = accepted.get(b.identity)!;
      if (ok && list.length < 2) list.push(b.file); else rejected.push(key(b.file));
    });
    await page.api('forget', rejected);
    log(`screened ${files.length} photos of ${needed.length} identities`);
  }
  return ids.map((i) => ({ identity: i.identity, photos: accepted.get(i.identity)! })).filter((i) => i.photos.length).slice(0, want);
}

export async function runQuality(opts: QualityOptions): Promise<QualityReport> {
  const started = Date.now();
  const { log } = opts;
  const phase: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string) => { phase[name] = Date.now() - t; t = Date.now(); };

  const held = heldOutIdentities(opts.facesDir, opts.cacheIndex);
  log(`held-out identities: ${held.identities.length} (split from ${held.from === 'cache' ? opts.cacheIndex : 'the labels (split.ts)'})`);
  const page = await openEvalPage();
  const keys = new Map<string, string>();
  const key = (file: string) => {
    let k = keys.get(file);
    if (!k) { k = `f${keys.size}${path.extname(file)}`; keys.set(file, k); page.image(k, file); }
    return k;
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-quality-'));
  try {
    lap('open');
    const identities = await screenPhotos(page, held.identities, opts.sources, key, log);
    const pairs: Pair[] = selectPairs(identities, opts.sources, opts.targets);
    log(`${pairs.length} pairs over ${identities.length} identities`);
    lap('screen');

    // Originals: landmarks and judge embeddings.
    const sheetPairs = pairs.slice(0, opts.sheetRows);
    const photos = [...new Set(pairs.flatMap((p) => [p.sourcePhoto, p.targetPhoto]))];
    const analysed = await page.api('analyse', photos.map((f) => ({ key: key(f) })));
    const original = new Map(photos.map((f, i) => [f, analysed[i]!]));
    await page.api('analyse', sheetPairs.flatMap((p, i) => [
      { key: key(p.sourcePhoto), tile: { id: `${i}:source`, boxFrom: key(p.sourcePhoto) } },
      { key: key(p.targetPhoto), tile: { id: `${i}:target`, boxFrom: key(p.targetPhoto) } },
    ]));
    const embedding = new Map<string, Float32Array>();
    for (const [f, a] of original) {
      if (!a.landmarks) throw new Error(`no face found in ${f}, which passed the photo check`);
      embedding.set(f, (await judge(a))!);
    }
    lap('originals');

    const score = async (p: Pair, a: Analysis): Promise<PairResult & { analysis: Analysis }> => {
      const e = await judge(a);
      const target = original.get(p.targetPhoto)!;
      return {
        cosSource: e ? cosine(e, embedding.get(p.sourcePhoto)!) : NaN,
        cosTarget: e ? cosine(e, embedding.get(p.targetPhoto)!) : NaN,
        nme: a.landmarks ? nme(a.landmarks, target.landmarks!) : null,
        ...(a.realism ? { realism: { seam: a.realism.seam, lighting: a.realism.lighting } } : {}),
        analysis: { ...a, crop: null },
      };
    };

    // Video frames and their original landmarks.
    const frames = videoFrames(opts.video, opts.frames);
    const frameKeys = frames.map(key);
    const videoSource = pairs[0]!.sourcePhoto;
    const originalVideo = await page.api('landmarks', frameKeys);
    log(`video: ${frames.length} frames of ${path.basename(opts.video)}, a face in ${originalVideo.filter(Boolean).length}; source ${path.basename(videoSource)}`);
    // Contact-sheet video row: a few frames spread over the video, each with a face.
    const faced = originalVideo.flatMap((l, i) => (l ? [i] : []));
    const tileAt = [0.2, 0.5, 0.8].map((q) => faced[Math.floor(q * (faced.length - 1))]!).filter((i) => i !== undefined);
    await page.api('analyse', tileAt.flatMap((i, k) => [
      { key: key(videoSource), tile: { id: `v${k}:source`, boxFrom: key(videoSource) } },
      { key: frameKeys[i]!, tile: { id: `v${k}:target`, boxFrom: frameKeys[i]! } },
    ]));
    lap('video-originals');

    // Occluded targets: glasses frames and a hand composited over the face (models/eval/page/scenes.ts).
    const occludedPairs: Pair[] = [];
    const occlusionJobs = pairs.slice(0, opts.occluded).map((p, i) => ({ pair: p, file: path.join(tmp, `occluded-${i}.png`) }));
    const composites = await page.api('occlude', occlusionJobs.map((j) => ({ target: key(j.pair.targetPhoto), as: key(j.file) })));
    occlusionJobs.forEach((j, i) => {
      if (!composites[i]) return;
      fs.writeFileSync(j.file, Buffer.from(composites[i]!, 'base64'));
      occludedPairs.push({ ...j.pair, targetPhoto: j.file });
    });
    const occludedFaces = await page.api('landmarks', occludedPairs.map((p) => key(p.targetPhoto)));
    const occluded = occludedPairs.filter((_, i) => occludedFaces[i]);
    log(`occluded targets: ${occluded.length} of ${occlusionJobs.length} with a face found`);
    lap('occluded');

    const rows: EngineRow[] = [
      { name: 'none', kind: 'none', perPair: [], occluderKept: [], msPerSwap: [], wallMs: 0 },
      { name: 'mesh', kind: 'mesh', perPair: [], occluderKept: [], msPerSwap: [], wallMs: 0 },
      { name: 'teacher', kind: 'teacher', perPair: [], occluderKept: [], msPerSwap: [], wallMs: 0, ...(opts.teacher ? {} : { skipped: 'turned off (--no-teacher)' }) },
      ...opts.idn.map((r) => ({
        name: r.name, kind: 'idn' as const, dir: r.dir, perPair: [], occluderKept: [] as number[], msPerSwap: [], wallMs: 0,
        ...(fs.existsSync(path.join(r.dir, 'manifest.json')) ? {} : { skipped: `no model at ${shortPath(r.dir)}` }),
      })),
    ];
    const browserRows = rows.filter((r) => (r.kind === 'mesh' || r.kind === 'idn') && !r.skipped);
    const refused = await page.api('engines', browserRows.map((r) => ({ name: r.name, kind: r.kind as 'mesh' | 'idn', model: r.dir ? page.model(r.name, r.dir) : undefined })));
    for (const r of browserRows) if (refused[r.name]) r.skipped = `engine refused the model: ${refused[r.name]}`;
    for (const r of rows.filter((r) => r.skipped)) log(`${r.name}: skipped (${r.skipped})`);
    lap('engines');

    for (const row of rows) {
      if (row.skipped) continue;
      const t0 = Date.now();
      try {
        if (row.kind === 'none') {
          const unchanged = await page.api('analyse', pairs.map((p) => ({ key: key(p.targetPhoto), realismAgainst: key(p.targetPhoto) })));
          for (const [i, p] of pairs.entries()) row.perPair.push(await score(p, { ...original.get(p.targetPhoto)!, realism: unchanged[i]!.realism }));
          const kept = await page.api('analyse', occluded.map((p) => ({ key: key(p.targetPhoto), realismAgainst: key(p.targetPhoto) })));
          row.occluderKept = kept.map((a) => a.realism!.occluderKept!);
          row.video = { landmarks: originalVideo, ms: [], flicker: await page.api('videoRealism', row.name, frameKeys, frameKeys, tileAt) };
        } else if (row.kind === 'teacher') {
          await runTeacher(row, pairs, occluded, original, frames, originalVideo, videoSource, tileAt, tmp, page, key, score, opts);
        } else {
          const CHUNK = 8;
          for (let i = 0; i < pairs.length; i += CHUNK) {
            const chunk = pairs.slice(i, i + CHUNK);
            const r = await page.api('swapPairs', row.name, chunk.map((p, k) => ({
              source: key(p.sourcePhoto), target: key(p.targetPhoto),
              tile: i + k < sheetPairs.length ? { id: `${i + k}:${row.name}`, boxFrom: key(p.targetPhoto) } : undefined,
            })));
            for (const [k, p] of chunk.entries()) row.perPair.push(await score(p, r.results[k]!));
            row.msPerSwap.push(...r.ms);
          }
          log(`${row.name}: ${pairs.length} pairs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
          for (let i = 0; i < occluded.length; i += CHUNK) {
            const r = await page.api('swapPairs', row.name, occluded.slice(i, i + CHUNK).map((p) => ({ source: key(p.sourcePhoto), target: key(p.targetPhoto) })));
            row.occluderKept.push(...r.results.map((a) => a.realism!.occluderKept!));
          }
          row.video = await page.api('swapVideo', row.name, key(videoSource), frameKeys, tileAt);
        }
      } catch (e) {
        row.skipped = `failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
        log(`${row.name}: ${row.skipped}`);
      }
      row.wallMs = Date.now() - t0;
      if (!row.skipped) log(`${row.name}: done in ${(row.wallMs / 1000).toFixed(1)} s`);
    }
    lap('engines-run');

    const summaries: EngineSummary[] = rows.map((r) => {
      if (r.skipped) return { ...summarise(r.name, []), status: 'skipped', note: r.skipped };
      const s = summarise(r.name, r.perPair);
      if (r.video) {
        const j = jitterRatio(originalVideo, r.video.landmarks);
        s.jitter = { ...j, noFace: originalVideo.filter((l, i) => l && !r.video!.landmarks[i]).length };
      }
      if (s.realism) {
        s.realism.flicker = r.video?.flicker;
        s.realism.occluderKept = mean(r.occluderKept);
        s.realism.occludedPairs = r.occluderKept.length;
      }
      return s;
    });
    const table = formatTable(summaries);

    let sheet: string | null = null;
    const shown = rows.filter((r) => !r.skipped && r.kind !== 'none');
    if (sheetPairs.length) {
      sheet = await page.api('sheet', sheetPairs.map((p, i) => ({
        label: `${p.source}\n→ ${p.target}`,
        tiles: [`${i}:source`, `${i}:target`, ...shown.map((r) => `${i}:${r.name}`)],
      })).concat(tileAt.map((f, k) => ({
        label: `video frame ${f + 1}\n${path.basename(opts.video)}`,
        tiles: [`v${k}:source`, `v${k}:target`, ...shown.map((r) => `v${k}:${r.name}`)],
      }))), ['source', 'target', ...shown.map((r) => r.name)]);
    }
    lap('report');

    const totalMs = Date.now() - started;
    const json = {
      generatedAt: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      judge: 'fr_feature.onnx (faceplugin-face-recognition-js) on onnxruntime-node, 112×112 ArcFace crops aligned with the app\'s FaceLandmarker (IMAGE mode); not the training encoder',
      split: { from: held.from, cacheIndex: held.from === 'cache' ? opts.cacheIndex : null, heldOutIdentities: held.identities.length, usedIdentities: identities.map((i) => ({ identity: i.identity, photos: i.photos.map((f) => path.relative(opts.facesDir, f)) })) },
      options: { sources: opts.sources, targets: opts.targets, frames: opts.frames, occluded: occluded.length, swapOptions: 'defaultSwapOptions', idnBackend: 'wasm', crossOriginIsolated: page.crossOriginIsolated },
      notes: [
        'none: the target frame unchanged (the baseline): its id→source is cos(target, source).',
        'Judge crops are aligned on the output\'s own landmarks; where no face is found in an output, on the target\'s (that output counts in the no-face column and is left out of the NME).',
        'mesh: a fresh MeshEngine per pair (its colour statistics are smoothed over frames); one instance for the whole video.',
        `idn: IdnEngine on onnxruntime-web wasm, ${page.crossOriginIsolated ? 'cross-origin isolated (threads)' : 'single-threaded (not cross-origin isolated)'}.`,
        'Video: every frame swapped with the original frame\'s landmarks (IMAGE mode, no smoothing); frames with no face in the original pass through and are left out.',
      ],
      table: summaries,
      pairs: pairs.map((p, i) => ({
        source: p.source, sourcePhoto: path.relative(opts.facesDir, p.sourcePhoto), target: p.target, targetPhoto: path.relative(opts.facesDir, p.targetPhoto),
        results: Object.fromEntries(rows.filter((r) => !r.skipped).map((r) => [r.name, {
          cosSource: round(r.perPair[i]!.cosSource), cosTarget: round(r.perPair[i]!.cosTarget), nme: r.perPair[i]!.nme === null ? null : round(r.perPair[i]!.nme!),
          seam: r.perPair[i]!.realism ? round(r.perPair[i]!.realism!.seam) : null, lighting: r.perPair[i]!.realism ? round(r.perPair[i]!.realism!.lighting) : null,
        }])),
      })),
      video: {
        file: path.basename(opts.video), frames: frames.length, source: path.relative(opts.facesDir, videoSource),
        originalFramesWithFace: originalVideo.filter(Boolean).length,
      },
      engines: Object.fromEntries(rows.map((r) => [r.name, {
        kind: r.kind, dir: r.dir ? shortPath(r.dir) : undefined, skipped: r.skipped,
        wallMs: r.wallMs, msPerSwapMedian: r.msPerSwap.length ? round(median(r.msPerSwap), 1) : null, msPerSwapMean: r.msPerSwap.length ? round(mean(r.msPerSwap), 1) : null,
      }])),
      timing: { totalMs, phases: phase },
      pageErrors: page.errors.filter((e) => !/404 \(Not Found\)/.test(e)),
    };
    if (opts.outDir) {
      fs.mkdirSync(opts.outDir, { recursive: true });
      fs.writeFileSync(path.join(opts.outDir, 'quality.json'), `${JSON.stringify(json, null, 1)}\n`);
      if (sheet) fs.writeFileSync(path.join(opts.outDir, 'quality-contact.png'), Buffer.from(sheet, 'base64'));
      log(`wrote ${path.relative(process.cwd(), path.join(opts.outDir, 'quality.json'))}${sheet ? ' and quality-contact.png' : ''}`);
    }
    log(`total ${(totalMs / 1000).toFixed(0)} s`);
    return { table, rows: summaries, json };
  } finally {
    await page.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A path inside the checkout relative to it, others as they are. */
const shortPath = (p: string) => (path.relative(root, p).startsWith('..') ? p : path.relative(root, p));

const round = (x: number, d = 4) => (Number.isFinite(x) ? +x.toFixed(d) : x);

/** The Python teacher (models/teacher/cli.py) on every pair and every video frame in one call; its outputs are judged like the others. */
async function runTeacher(
  row: EngineRow, pairs: Pair[], occluded: Pair[], original: Map<string, Analysis>, frames: string[], originalVideo: (number[] | null)[], videoSource: string,
  tileAt: number[], tmp: string, page: EvalPage, key: (file: string) => string,
  score: (p: Pair, a: Analysis) => Promise<PairResult & { analysis: Analysis }>, opts: QualityOptions,
) {
  const xy = (flat: number[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
  const jobs: { source: string; sourceLandmarks: number[][]; target: string; targetLandmarks: number[][]; out: string }[] = [];
  pairs.forEach((p, i) => jobs.push({
    source: p.sourcePhoto, sourceLandmarks: xy(original.get(p.sourcePhoto)!.landmarks!),
    target: p.targetPhoto, targetLandmarks: xy(original.get(p.targetPhoto)!.landmarks!), out: path.join(tmp, `teacher-pair-${i}.png`),
  }));
  const occludedTargets = await page.api('landmarks', occluded.map((p) => key(p.targetPhoto)));
  occluded.forEach((p, i) => jobs.push({
    source: p.sourcePhoto, sourceLandmarks: xy(original.get(p.sourcePhoto)!.landmarks!),
    target: p.targetPhoto, targetLandmarks: xy(occludedTargets[i]!), out: path.join(tmp, `teacher-occluded-${i}.png`),
  }));
  const videoOut = frames.map((_, i) => path.join(tmp, `teacher-frame-${i}.png`));
  frames.forEach((f, i) => {
    if (originalVideo[i]) jobs.push({ source: videoSource, sourceLandmarks: xy(original.get(videoSource)!.landmarks!), target: f, targetLandmarks: xy(originalVideo[i]!), out: videoOut[i]! });
  });
  const file = path.join(tmp, 'pairs.json');
  fs.writeFileSync(file, JSON.stringify(jobs));
  const t0 = Date.now();
  try {
    await promisify(execFile)(pythonPath(), ['-m', 'teacher.cli', file], { cwd: path.join(root, 'models'), timeout: 15 * 60_000, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`teacher CLI: ${(err.stderr?.trim().split('\n').at(-1) ?? err.message).slice(0, 300)}`);
  }
  const ms = (Date.now() - t0) / jobs.length;
  row.msPerSwap.push(...jobs.map(() => ms)); // the CLI's wall time per swap, Python start-up included
  opts.log(`teacher: ${jobs.length} swaps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const missing = jobs.filter((j) => !fs.existsSync(j.out));
  if (missing.length) throw new Error(`teacher CLI wrote no ${path.basename(missing[0]!.out)} (${missing.length} missing)`);
  const analysed = await page.api('analyse', pairs.map((p, i) => ({
    key: key(path.join(tmp, `teacher-pair-${i}.png`)), fallback: key(p.targetPhoto),
    tile: i < opts.sheetRows ? { id: `${i}:${row.name}`, boxFrom: key(p.targetPhoto) } : undefined,
    realismAgainst: key(p.targetPhoto),
  })));
  for (const [i, p] of pairs.entries()) row.perPair.push(await score(p, analysed[i]!));
  const kept = await page.api('analyse', occluded.map((p, i) => ({ key: key(path.join(tmp, `teacher-occluded-${i}.png`)), fallback: key(p.targetPhoto), realismAgainst: key(p.targetPhoto) })));
  row.occluderKept = kept.map((a) => a.realism!.occluderKept!);
  const outKeys = frames.map((_, i) => (originalVideo[i] ? key(videoOut[i]!) : ''));
  const flicker = await page.api('videoRealism', row.name, frames.map(key), outKeys, tileAt);
  const lm = await page.api('landmarks', outKeys.filter(Boolean), true);
  let k = 0;
  row.video = { landmarks: frames.map((_, i) => (originalVideo[i] ? lm[k++]! : null)), ms: [], flicker };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = await runQuality(opts);
  console.log(`\nQuality on held-out identities (${report.json.mode}; ${(report.json.pairs as unknown[]).length} pairs, judge: fr_feature)\n`);
  console.log(report.table);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
