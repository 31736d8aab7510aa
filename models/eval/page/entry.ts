// The quality eval's page: the app's own engines (MeshEngine, IdnEngine on
// onnxruntime-web wasm) and FaceLandmarker, bundled by esbuild and driven from
// Node (models/eval/browser.ts) through `window.evalApi`. Images come from the
// eval's static server at /img/<key>; nothing here touches the disk.
import { IdnEngine } from '@guise/client/engines/idn/IdnEngine';
import { MeshEngine } from '@guise/client/engines/mesh/MeshEngine';
import { defaultSwapOptions, type Engine } from '@guise/client/engines/types';
import { alignedPixels } from '@guise/face/crop';
import { alignmentFor } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { createFaceLandmarker, faceBox, toGeometry, type FaceGeometry } from '@guise/face/landmarker';
import type { IdentityPack } from '@guise/face/pack';
import { changedRegion, FlickerMeter, intersect, lightingScore, occluderKept, seamScore, type Luma, type Mask } from '../realism.ts';
import { lumaOfPicture, occlude, ovalMask, ovalWidth } from './scenes.ts';

export interface EngineSpec { name: string; kind: 'mesh' | 'idn'; model?: string }

/** What the judge and the landmark metrics need of one image. */
export interface Analysis {
  width: number;
  height: number;
  /** Flat pixel x, y of the 478 landmarks; null where no face was found. */
  landmarks: number[] | null;
  /** The judge's 112×112 RGBA ArcFace crop (base64), aligned on the image's own face, or on `fallback`'s where none was found. */
  crop: string | null;
  /** Realism against the unswapped target, where asked for (see `realismOf`). */
  realism?: Realism;
}

/** The realism metrics of one swapped image (models/eval/realism.ts). */
export interface Realism {
  /** Gradient excess along the edge of what the swap changed, over the unswapped frame's (0: none). */
  seam: number;
  /** 1 − correlation of the face's low-frequency shading with the target's (0: the target's lighting). */
  lighting: number;
  /** Share of the composited occluder's pixels inside the face left as they were (occluded targets only). */
  occluderKept: number | null;
}

export interface VideoResult { landmarks: (number[] | null)[]; ms: number[]; flicker: number }

export interface ScreenResult { key: string; width: number; height: number; boxes: { width: number; height: number }[]; error?: string }

/** A face tile for the contact sheet: which image, cropped around which image's face. */
export interface TileRequest { id: string; boxFrom: string }

const JUDGE = 112;
const TILE = 128;

let landmarker: Awaited<ReturnType<typeof createFaceLandmarker>>;
let faces = 1;
const images = new Map<string, ImageBitmap>();
const geometry = new Map<string, FaceGeometry | null>();
const engines = new Map<string, { spec: EngineSpec; engine?: Engine }>();
const packs = new Map<string, IdentityPack>();
const tiles = new Map<string, ImageBitmap>();
/** Composited occluders' masks, by the occluded image's key. */
const occluders = new Map<string, Mask>();
const lumas = new Map<string, Luma>();

async function lumaOfKey(key: string): Promise<Luma> {
  let l = lumas.get(key);
  if (!l) { l = lumaOfPicture(await image(key)); lumas.set(key, l); }
  return l;
}

/** Seam, lighting and (on an occluded target) occluders kept, of `out` swapped onto `target`. */
async function realismOf(out: ImageBitmap, target: string): Promise<Realism> {
  const g = await geometryOf(target);
  const before = await lumaOfKey(target);
  const after = lumaOfPicture(out);
  if (!g || after.width !== before.width || after.height !== before.height) throw new Error(`realism: ${target} has no face, or the output's size differs`);
  const face = ovalMask(g, before.width, before.height);
  const occluder = occluders.get(target);
  return {
    seam: seamScore(after, before, changedRegion(after, before)),
    lighting: lightingScore(after, before, face, Math.max(2, Math.round(ovalWidth(g) / 8))),
    occluderKept: occluder ? occluderKept(after, before, intersect(occluder, face)) : null,
  };
}

async function image(key: string): Promise<ImageBitmap> {
  let b = images.get(key);
  if (!b) {
    const res = await fetch(`/img/${encodeURIComponent(key)}`);
    if (!res.ok) throw new Error(`image ${key}: ${res.status}`);
    b = await createImageBitmap(await res.blob());
    images.set(key, b);
  }
  return b;
}

async function numFaces(n: number) {
  if (faces !== n) { await landmarker.setOptions({ numFaces: n }); faces = n; }
}

/** The face the app's tracker would see in a still (IMAGE mode, one face). */
async function detect(source: ImageBitmap): Promise<FaceGeometry | null> {
  await numFaces(1);
  const f = landmarker.detect(source).faceLandmarks[0];
  return f ? toGeometry(f, source.width, source.height) : null;
}

async function geometryOf(key: string): Promise<FaceGeometry | null> {
  if (!geometry.has(key)) geometry.set(key, await detect(await image(key)));
  return geometry.get(key)!;
}

const flatXY = (g: FaceGeometry) => Array.from({ length: g.points.length / 3 }, (_, i) => [g.points[i * 3]!, g.points[i * 3 + 1]!]).flat();

function toBase64(bytes: Uint8ClampedArray): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The judge's crop, exactly as e2e/lib/faceEmbedding.ts captureFace makes it (the same alignment and drawAligned). */
function judgeCrop(src: ImageBitmap, g: FaceGeometry): string {
  // Normalised, then scaled to `src`: a fallback face may come from an image of another size.
  const n = g.points.length / 3;
  const norm = Array.from({ length: n }, (_, i) => ({ x: g.points[i * 3]! / g.width, y: g.points[i * 3 + 1]! / g.height }));
  return toBase64(alignedPixels(src, alignmentFor(fivePoints(norm, src.width, src.height), JUDGE).toCrop, JUDGE));
}

async function analyse(src: ImageBitmap, fallback: FaceGeometry | null, found?: FaceGeometry | null): Promise<Analysis> {
  const g = found === undefined ? await detect(src) : found;
  const judgeOn = g ?? fallback;
  return { width: src.width, height: src.height, landmarks: g ? flatXY(g) : null, crop: judgeOn ? judgeCrop(src, judgeOn) : null };
}

/** A square tile around `g`'s face (1.6× its landmark box), for the contact sheet. */
function tile(src: ImageBitmap, g: FaceGeometry | null): Promise<ImageBitmap> {
  const c = new OffscreenCanvas(TILE, TILE);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#222';
  ctx.fillRect(0, 0, TILE, TILE);
  if (g) {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < 468 * 3; i += 3) {
      x0 = Math.min(x0, g.points[i]!); x1 = Math.max(x1, g.points[i]!);
      y0 = Math.min(y0, g.points[i + 1]!); y1 = Math.max(y1, g.points[i + 1]!);
    }
    const side = 1.6 * Math.max(x1 - x0, y1 - y0);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(src, (x0 + x1 - side) / 2, (y0 + y1 - side) / 2, side, side, 0, 0, TILE, TILE);
  } else {
    ctx.drawImage(src, 0, 0, TILE, TILE);
  }
  return createImageBitmap(c);
}

async function keepTile(req: TileRequest | undefined, src: ImageBitmap) {
  if (req) tiles.set(req.id, await tile(src, await geometryOf(req.boxFrom)));
}

async function packFor(name: string, engine: Engine, source: string): Promise<IdentityPack> {
  const k = `${name}\u0000${source}`;
  let p = packs.get(k);
  if (!p) {
    const g = await geometryOf(source);
    if (!g) throw new Error(`no face in source ${source}`);
    p = await engine.prepareIdentity(await image(source), g, source);
    packs.set(k, p);
  }
  return p;
}

/** Runs one engine on a frame and snapshots its canvas (the engine reuses it for the next frame). */
async function runEngine(name: string, engine: Engine, source: string, target: string): Promise<{ out: ImageBitmap; ms: number }> {
  const tg = await geometryOf(target);
  if (!tg) throw new Error(`no face in target ${target}`);
  const pack = await packFor(name, engine, source);
  const frame = await image(target);
  const t = performance.now();
  const canvas = await engine.swap(frame, tg, pack, defaultSwapOptions);
  const ms = performance.now() - t;
  return { out: await createImageBitmap(canvas), ms };
}

const api = {
  async init(landmarkerModel: string): Promise<{ crossOriginIsolated: boolean }> {
    landmarker = await createFaceLandmarker({ wasm: '/vision/wasm', model: landmarkerModel, delegate: 'CPU', runningMode: 'IMAGE', numFaces: 1 });
    return { crossOriginIsolated: self.crossOriginIsolated };
  },

  /** Starts the engines; an engine that refuses (missing model, unsupported variant) answers its error. */
  async engines(specs: EngineSpec[]): Promise<Record<string, string | null>> {
    const result: Record<string, string | null> = {};
    for (const spec of specs) {
      try {
        // mesh: a fresh engine per pair (see swapPairs), so no instance here.
        const engine = spec.kind === 'idn'
          ? await IdnEngine.create({ idnModel: spec.model!, ortWasm: '/ort/' }, 'wasm', undefined, { waitForEachFace: true })
          : undefined;
        engines.set(spec.name, { spec, engine });
        result[spec.name] = null;
      } catch (e) {
        result[spec.name] = String((e as Error)?.message ?? e);
      }
    }
    return result;
  },

  /** Every face in each photo (numFaces 4, like the app's identity-photo check). */
  async screen(keys: string[]): Promise<ScreenResult[]> {
    await numFaces(4);
    const out: ScreenResult[] = [];
    for (const key of keys) {
      try {
        const b = await image(key);
        const found = landmarker.detect(b).faceLandmarks.map((f) => toGeometry(f, b.width, b.height));
        const boxes = found.map((g) => { const { width, height } = faceBox(g); return { width, height }; });
        out.push({ key, width: b.width, height: b.height, boxes });
      } catch (e) {
        out.push({ key, width: 0, height: 0, boxes: [], error: String(e) });
      }
    }
    return out;
  },

  /** Drops images not needed any more (screened-out candidates). */
  forget(keys: string[]) {
    for (const k of keys) { images.get(k)?.close(); images.delete(k); geometry.delete(k); lumas.delete(k); }
  },

  /** Originals (and the teacher's outputs): landmarks and judge crop; `fallback` aligns the judge where no face is found. */
  async analyse(items: { key: string; fallback?: string; tile?: TileRequest; realismAgainst?: string }[]): Promise<Analysis[]> {
    const out: Analysis[] = [];
    for (const it of items) {
      const src = await image(it.key);
      const fb = it.fallback ? await geometryOf(it.fallback) : null;
      const a = await analyse(src, fb, it.fallback ? undefined : await geometryOf(it.key));
      if (it.realismAgainst) a.realism = await realismOf(src, it.realismAgainst);
      out.push(a);
      await keepTile(it.tile, src);
    }
    return out;
  },

  /**
   * Targets with glasses frames and a hand composited over the face, kept as
   * `as` with their occluder mask; answers each as a PNG (base64) for the
   * teacher, which reads files. Null where the target has no face.
   */
  async occlude(items: { target: string; as: string }[]): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (const it of items) {
      const g = await geometryOf(it.target);
      if (!g) { out.push(null); continue; }
      const { image: composite, mask } = await occlude(await image(it.target), g);
      images.set(it.as, composite);
      occluders.set(it.as, mask);
      const c = new OffscreenCanvas(composite.width, composite.height);
      c.getContext('2d')!.drawImage(composite, 0, 0);
      out.push(toBase64(new Uint8ClampedArray(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer())));
    }
    return out;
  },

  /**
   * Swaps each pair with a browser engine and analyses the output. The mesh
   * engine gets a fresh instance per pair: it smooths the target's colour
   * statistics over frames, which would otherwise carry one pair's into the next.
   */
  async swapPairs(name: string, pairs: { source: string; target: string; tile?: TileRequest }[]): Promise<{ results: Analysis[]; ms: number[] }> {
    const e = engines.get(name);
    if (!e) throw new Error(`engine ${name} was not started`);
    const results: Analysis[] = [], ms: number[] = [];
    for (const p of pairs) {
      const engine = e.engine ?? await MeshEngine.create();
      try {
        const r = await runEngine(name, engine, p.source, p.target);
        const a = await analyse(r.out, await geometryOf(p.target));
        a.realism = await realismOf(r.out, p.target);
        results.push(a);
        ms.push(r.ms);
        await keepTile(p.tile, r.out);
        r.out.close();
      } finally {
        if (!e.engine) engine.dispose();
      }
    }
    return { results, ms };
  },

  /**
   * One engine over a video's frames with one source (one instance
   * throughout, as in a call): landmarks per output frame, and the flicker
   * inside the face against the original's. `tileAt`: frame indices kept as
   * contact-sheet tiles `v<k>:<name>`.
   */
  async swapVideo(name: string, source: string, frames: string[], tileAt: number[] = []): Promise<VideoResult> {
    const e = engines.get(name);
    if (!e) throw new Error(`engine ${name} was not started`);
    const engine = e.engine ?? await MeshEngine.create();
    const landmarks: (number[] | null)[] = [], ms: number[] = [];
    const flicker = new FlickerMeter();
    try {
      for (const [i, f] of frames.entries()) {
        const original = await geometryOf(f);
        if (!original) { landmarks.push(null); flicker.push(await lumaOfKey(f), await lumaOfKey(f), null); continue; } // the app passes such a frame through
        const r = await runEngine(name, engine, source, f);
        const g = await detect(r.out);
        landmarks.push(g ? flatXY(g) : null);
        ms.push(r.ms);
        const before = await lumaOfKey(f);
        flicker.push(lumaOfPicture(r.out), before, ovalMask(original, before.width, before.height));
        const k = tileAt.indexOf(i);
        if (k >= 0) await keepTile({ id: `v${k}:${name}`, boxFrom: f }, r.out);
        r.out.close();
      }
    } finally {
      if (!e.engine) engine.dispose();
    }
    return { landmarks, ms, flicker: flicker.ratio };
  },

  /** Flicker and tiles of a video swapped elsewhere (the teacher's): `outputs[i]` is frame i's output, '' where it passed through. */
  async videoRealism(name: string, frames: string[], outputs: string[], tileAt: number[] = []): Promise<number> {
    const flicker = new FlickerMeter();
    for (const [i, f] of frames.entries()) {
      const before = await lumaOfKey(f);
      const original = await geometryOf(f);
      if (!original || !outputs[i]) { flicker.push(before, before, null); continue; }
      const out = await image(outputs[i]!);
      flicker.push(lumaOfPicture(out), before, ovalMask(original, before.width, before.height));
      const k = tileAt.indexOf(i);
      if (k >= 0) await keepTile({ id: `v${k}:${name}`, boxFrom: f }, out);
    }
    return flicker.ratio;
  },

  /** Landmarks of images as they are (original video frames, the teacher's video outputs); `drop` frees them after. */
  async landmarks(keys: string[], drop = false): Promise<(number[] | null)[]> {
    const out: (number[] | null)[] = [];
    for (const k of keys) {
      const g = await geometryOf(k);
      out.push(g ? flatXY(g) : null);
      if (drop) api.forget([k]);
    }
    return out;
  },

  /** The contact sheet from kept tiles: rows × columns of tile ids (missing: a grey cell), with labels. */
  async sheet(rows: { label: string; tiles: string[] }[], columns: string[]): Promise<string> {
    const labelW = 150, headH = 24, pad = 4;
    const W = labelW + columns.length * (TILE + pad), H = headH + rows.length * (TILE + pad);
    const c = new OffscreenCanvas(W, H);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = '#000';
    ctx.font = '13px sans-serif';
    ctx.textBaseline = 'middle';
    columns.forEach((col, j) => ctx.fillText(col, labelW + j * (TILE + pad) + 4, headH / 2, TILE - 4));
    rows.forEach((row, i) => {
      const y = headH + i * (TILE + pad);
      row.label.split('\n').forEach((line, k) => ctx.fillText(line, 4, y + TILE / 2 + (k - 0.5) * 16, labelW - 8));
      row.tiles.forEach((id, j) => {
        const b = tiles.get(id);
        const x = labelW + j * (TILE + pad);
        if (b) ctx.drawImage(b, x, y);
        else { ctx.fillStyle = '#ccc'; ctx.fillRect(x, y, TILE, TILE); ctx.fillStyle = '#000'; }
      });
    });
    const blob = await c.convertToBlob({ type: 'image/png' });
    return toBase64(new Uint8ClampedArray(await blob.arrayBuffer()));
  },
};

export type EvalApi = typeof api;
(self as unknown as { evalApi: EvalApi }).evalApi = api;
