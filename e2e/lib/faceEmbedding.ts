// A face-recognition judge for tests: landmarks from the app's own
// FaceLandmarker (run in a test page), ArcFace-style 5-point alignment with the
// app's own alignment math, and a 512-d embedding from an ONNX model run here
// under onnxruntime-node. The model (faceplugin-face-recognition-js, 112×112
// input) is a test-only dependency and never ships with the app.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { alignmentFor } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { repoRoot } from './paths.ts';

const require = createRequire(import.meta.url);
const modelPath = path.join(path.dirname(require.resolve('faceplugin-face-recognition-js/package.json')), 'model/fr_feature.onnx');
let session: Promise<ort.InferenceSession> | undefined;

/** The model's input: an aligned 112×112 RGB crop, NCHW, normalised as the model was trained. */
function toInput(rgba: Uint8ClampedArray, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let ch = 0; ch < 3; ch++) out[ch * size * size + i] = (rgba[i * 4 + ch]! - 127) / 128;
  }
  return out;
}

/** Embeds one captured face (see captureFace): a unit-length 512-d vector. */
export async function embed(face: CapturedFace): Promise<Float32Array> {
  session ??= ort.InferenceSession.create(modelPath);
  const s = await session;
  const input = new ort.Tensor('float32', toInput(face.crop, 112), [1, 3, 112, 112]);
  const out = await s.run({ [s.inputNames[0]!]: input });
  const v = out[s.outputNames[0]!]!.data as Float32Array;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Serves tasks-vision and the app's face model to a test page under /__e2e/,
 * same origin as the app (so its cross-origin isolation headers allow them).
 */
export async function installLandmarkerRoutes(page: Page): Promise<void> {
  const vision = path.join(repoRoot, 'client/node_modules/@mediapipe/tasks-vision');
  const files: Record<string, string> = {
    'vision_bundle.mjs': path.join(vision, 'vision_bundle.mjs'),
    'face_landmarker.task': path.join(repoRoot, 'models/face_landmarker/face_landmarker.task'),
  };
  await page.route('**/__e2e/**', async (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^\/__e2e\//, '');
    const file = files[name] ?? (name.startsWith('wasm/') ? path.join(vision, name) : undefined);
    if (!file) return route.fulfill({ status: 404 });
    const type = file.endsWith('.mjs') || file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    await route.fulfill({ path: file, headers: { 'Content-Type': type, 'Cross-Origin-Resource-Policy': 'same-origin' } });
  });
}

export interface CapturedFace { crop: Uint8ClampedArray; landmarks: { x: number; y: number }[] }

/**
 * Snapshots what an element shows (a remote <video> tile or an <img>), finds
 * the face with FaceLandmarker in the page, and crops it to the ArcFace 112×112
 * template with the app's own alignment math. Null when no face is found.
 */
export async function captureFace(page: Page, selector: string, recordedFrame?: number): Promise<CapturedFace | null> {
  const found = await page.evaluate(async ([sel, recorded]) => {
    type Landmarker = { detect(i: ImageBitmap): { faceLandmarks: { x: number; y: number }[][] } };
    const w = window as unknown as { __e2eLandmarker?: Promise<Landmarker>; __e2eFrame?: ImageBitmap };
    w.__e2eLandmarker ??= (async () => {
      // Built from a string: vitest rewrites a literal import() in this function's source.
      const load = new Function('u', 'return import(u)') as (u: string) => Promise<any>;
      const vision = await load(`${location.origin}/__e2e/vision_bundle.mjs`);
      const fileset = await vision.FilesetResolver.forVisionTasks(`${location.origin}/__e2e/wasm`);
      return vision.FaceLandmarker.createFromOptions(fileset, {
        baseOptions: { modelAssetPath: `${location.origin}/__e2e/face_landmarker.task`, delegate: 'CPU' },
        runningMode: 'IMAGE', numFaces: 1, outputFaceBlendshapes: false,
      });
    })();
    if (w.__e2eFrame && !(w as any).__e2eRecording?.frames.includes(w.__e2eFrame)) w.__e2eFrame.close();
    // One snapshot for both steps: the video moves on between evaluate calls.
    w.__e2eFrame = recorded !== null
      ? (w as any).__e2eRecording.frames[recorded] as ImageBitmap
      : await createImageBitmap(document.querySelector(sel!) as HTMLVideoElement | HTMLImageElement);
    const face = (await w.__e2eLandmarker).detect(w.__e2eFrame).faceLandmarks[0];
    return face ? { landmarks: face.map((p) => ({ x: p.x, y: p.y })), width: w.__e2eFrame.width, height: w.__e2eFrame.height } : null;
  }, [selector, recordedFrame ?? null] as const);
  if (!found) return null;
  const { toCrop } = alignmentFor(fivePoints(found.landmarks, found.width, found.height), 112);
  const crop = await page.evaluate((m) => {
    const frame = (window as unknown as { __e2eFrame: ImageBitmap }).__e2eFrame;
    const c = new OffscreenCanvas(112, 112);
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]); // canvas order: a, b(=c), c(=b), d, e, f
    ctx.drawImage(frame, 0, 0);
    return Array.from(ctx.getImageData(0, 0, 112, 112).data);
  }, toCrop);
  return { crop: Uint8ClampedArray.from(crop), landmarks: found.landmarks };
}

/**
 * Keeps every frame a <video> presents from now on (as ImageBitmaps, in the
 * page), so a change can later be located to the exact frame.
 */
export async function startRecording(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const w = window as unknown as { __e2eRecording?: { frames: ImageBitmap[]; times: number[]; stop: boolean } };
    for (const f of w.__e2eRecording?.frames ?? []) f.close();
    const rec = { frames: [] as ImageBitmap[], times: [] as number[], stop: false };
    w.__e2eRecording = rec;
    const video = document.querySelector(sel) as HTMLVideoElement;
    const onFrame = (now: number) => {
      if (rec.stop) return;
      // Wall-clock time, comparable across browser processes on this machine.
      const at = performance.timeOrigin + now;
      void createImageBitmap(video).then((b) => {
        if (rec.stop) return b.close();
        rec.frames.push(b);
        rec.times.push(at);
      });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }, selector);
}

/** Stops recording; returns the wall-clock time (ms) each kept frame was presented. */
export async function stopRecording(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const rec = (window as unknown as { __e2eRecording: { times: number[]; stop: boolean } }).__e2eRecording;
    rec.stop = true;
    return rec.times;
  });
}

/** Mean embedding of `count` faces captured from what `selector` shows (unit length). */
export async function embedSeen(page: Page, selector: string, count = 3): Promise<Float32Array> {
  const sum = new Float32Array(512);
  for (let got = 0, tries = 0; got < count; tries++) {
    if (tries > count * 10) throw new Error(`no face found in ${selector}`);
    const face = await captureFace(page, selector);
    if (face) { (await embed(face)).forEach((v, i) => { sum[i]! += v; }); got++; }
    await page.waitForTimeout(150);
  }
  const n = Math.hypot(...sum);
  return sum.map((v) => v / n);
}
