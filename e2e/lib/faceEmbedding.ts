// A face-recognition judge for tests: landmarks from the app's own
// FaceLandmarker (run in a test page through the face package's page bundle),
// ArcFace-style 5-point alignment and crop with the app's own alignment math
// and drawAligned, and the quality eval's embedding (models/eval/judge.ts).
import path from 'node:path';
import type { Page } from 'playwright-core';
import { importInPage } from './pageImport.ts';
import { alignmentFor } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { facePageScript, visionWasmDir } from '@guise/face/pageBundle';
import { cosine, embed, JUDGE_CROP } from '@guise/models/eval/judge';
import { repoRoot } from './paths.ts';

export { cosine, embed };

/**
 * Serves the face package's page bundle (page.ts), tasks-vision's wasm and the
 * app's face model to a test page under /__e2e/, same origin as the app (so
 * its cross-origin isolation headers allow them).
 */
export async function installLandmarkerRoutes(page: Page): Promise<void> {
  const script = await facePageScript();
  const headers = { 'Cross-Origin-Resource-Policy': 'same-origin' };
  const model = path.join(repoRoot, 'models/face_landmarker/face_landmarker.task');
  await page.route('**/__e2e/**', async (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^\/__e2e\//, '');
    if (name === 'face.js') return route.fulfill({ body: script, headers: { ...headers, 'Content-Type': 'text/javascript' } });
    const file = name === 'face_landmarker.task' ? model : name.startsWith('wasm/') ? path.join(visionWasmDir, name.slice(5)) : undefined;
    if (!file) return route.fulfill({ status: 404 });
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    await route.fulfill({ path: file, headers: { ...headers, 'Content-Type': type } });
  });
}

/** What a test page's window holds once captureFace has run. */
interface JudgeWindow {
  __e2eFace?: Promise<{ face: typeof import('@guise/face/page'); landmarker: Awaited<ReturnType<typeof import('@guise/face/page').createFaceLandmarker>> }>;
  __e2eFrame?: ImageBitmap;
  __e2eRecording?: { frames: ImageBitmap[] };
}

export interface CapturedFace { crop: Uint8ClampedArray; landmarks: { x: number; y: number }[] }

/**
 * Snapshots what an element shows (a remote <video> tile or an <img>), finds
 * the face with FaceLandmarker in the page, and crops it to the ArcFace 112×112
 * template with the app's own alignment math. Null when no face is found.
 */
export async function captureFace(page: Page, selector: string, recordedFrame?: number): Promise<CapturedFace | null> {
  await importInPage(page, '/__e2e/face.js', '__e2eFaceModule');
  const found = await page.evaluate(async ([sel, recorded]) => {
    const w = window as unknown as JudgeWindow & { __e2eFaceModule: typeof import('@guise/face/page') };
    w.__e2eFace ??= (async () => {
      const face = w.__e2eFaceModule;
      const landmarker = await face.createFaceLandmarker({
        wasm: `${location.origin}/__e2e/wasm`, model: `${location.origin}/__e2e/face_landmarker.task`, delegate: 'CPU', runningMode: 'IMAGE', numFaces: 1,
      });
      return { face, landmarker };
    })();
    if (w.__e2eFrame && !w.__e2eRecording?.frames.includes(w.__e2eFrame)) w.__e2eFrame.close();
    // One snapshot for both steps: the video moves on between evaluate calls.
    w.__e2eFrame = recorded !== null
      ? w.__e2eRecording!.frames[recorded]!
      : await createImageBitmap(document.querySelector(sel!) as HTMLVideoElement | HTMLImageElement);
    const face = (await w.__e2eFace).landmarker.detect(w.__e2eFrame).faceLandmarks[0];
    return face ? { landmarks: face.map((p) => ({ x: p.x, y: p.y })), width: w.__e2eFrame.width, height: w.__e2eFrame.height } : null;
  }, [selector, recordedFrame ?? null] as const);
  if (!found) return null;
  const { toCrop } = alignmentFor(fivePoints(found.landmarks, found.width, found.height), JUDGE_CROP);
  const crop = await page.evaluate(async ([m, size]) => {
    const w = window as unknown as JudgeWindow;
    return Array.from((await w.__e2eFace!).face.alignedPixels(w.__e2eFrame!, m, size));
  }, [toCrop, JUDGE_CROP] as const);
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
