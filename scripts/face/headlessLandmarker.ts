// The app's FaceLandmarker outside the app: tasks-vision only runs in a
// browser, so offline tools (identity packs, training data) drive it in
// headless Chromium. The page gets `window.landmarker` (IMAGE mode) and serves
// the caller's images at /img/<key>.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vision = path.join(root, 'client/node_modules/@mediapipe/tasks-vision');
const model = path.join(root, 'models/face_landmarker/face_landmarker.task');

export const mimeOf = (file: string) => (/\.png$/i.test(file) ? 'image/png' : /\.webp$/i.test(file) ? 'image/webp' : 'image/jpeg');

export interface LandmarkerPage { page: Page; close(): Promise<void> }

/** `imageFile(key)` maps /img/<key> to a file on disk (undefined: 404). */
export async function openLandmarkerPage(imageFile: (key: string) => string | undefined, numFaces: number): Promise<LandmarkerPage> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.addInitScript('window.__name = (f) => f'); // tsx's keepNames helper, inside evaluate()
    const origin = 'http://guise.local';
    await page.route(`${origin}/**`, (route) => {
      const name = new URL(route.request().url()).pathname.slice(1);
      if (name === 'index.html') return route.fulfill({ body: '<!doctype html><title>landmarks</title>', contentType: 'text/html' });
      if (name === 'vision.mjs') return route.fulfill({ path: path.join(vision, 'vision_bundle.mjs'), contentType: 'text/javascript' });
      if (name === 'face_landmarker.task') return route.fulfill({ path: model, contentType: 'application/octet-stream' });
      if (name.startsWith('wasm/')) return route.fulfill({ path: path.join(vision, name), contentType: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
      const image = name.startsWith('img/') ? imageFile(decodeURIComponent(name.slice(4))) : undefined;
      return image ? route.fulfill({ path: image, contentType: mimeOf(image) }) : route.fulfill({ status: 404 });
    });
    await page.goto(`${origin}/index.html`);
    await page.evaluate(async (numFaces) => {
      const load = new Function('u', 'return import(u)') as (u: string) => Promise<any>;
      const vision = await load('/vision.mjs');
      const fileset = await vision.FilesetResolver.forVisionTasks('/wasm');
      (window as any).landmarker = await vision.FaceLandmarker.createFromOptions(fileset, {
        baseOptions: { modelAssetPath: '/face_landmarker.task', delegate: 'CPU' }, runningMode: 'IMAGE', numFaces, outputFaceBlendshapes: false,
      });
    }, numFaces);
    return { page, close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** Each face's landmark bounding box in pixels, for the app's face-size rules. */
export function faceBoxes(faces: { x: number; y: number }[][], width: number, height: number): { width: number; height: number }[] {
  return faces.map((f) => {
    const xs = f.map((p) => p.x * width), ys = f.map((p) => p.y * height);
    return { width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
  });
}
