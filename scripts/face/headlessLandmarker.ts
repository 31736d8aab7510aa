// The app's FaceLandmarker outside the app: tasks-vision only runs in a
// browser, so offline tools (identity packs, training data) drive it in
// headless Chromium. The page loads the face package's page bundle as
// `window.face` (the same landmarker factory and crop code as the app), gets
// `window.landmarker` (IMAGE mode) from it, and serves the caller's images at
// /img/<key>.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { facePageScript, visionWasmDir } from '@guise/face/pageBundle';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const model = path.join(root, 'models/face_landmarker/face_landmarker.task');

export const mimeOf = (file: string) => (/\.png$/i.test(file) ? 'image/png' : /\.webp$/i.test(file) ? 'image/webp' : 'image/jpeg');

/** What the page's window holds, for page.evaluate callbacks: `(window as unknown as LandmarkerWindow)`. */
export interface LandmarkerWindow {
  face: typeof import('@guise/face/page');
  landmarker: Awaited<ReturnType<typeof import('@guise/face/page').createFaceLandmarker>>;
}

export interface LandmarkerPage { page: Page; close(): Promise<void> }

/** `imageFile(key)` maps /img/<key> to a file on disk (undefined: 404). */
export async function openLandmarkerPage(imageFile: (key: string) => string | undefined, numFaces: number): Promise<LandmarkerPage> {
  const script = await facePageScript();
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
      if (name === 'face.js') return route.fulfill({ body: script, contentType: 'text/javascript' });
      if (name === 'face_landmarker.task') return route.fulfill({ path: model, contentType: 'application/octet-stream' });
      if (name.startsWith('wasm/')) return route.fulfill({ path: path.join(visionWasmDir, name.slice(5)), contentType: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
      const image = name.startsWith('img/') ? imageFile(decodeURIComponent(name.slice(4))) : undefined;
      return image ? route.fulfill({ path: image, contentType: mimeOf(image) }) : route.fulfill({ status: 404 });
    });
    await page.goto(`${origin}/index.html`);
    await page.evaluate(async (numFaces) => {
      // Built from a string: a literal import() in evaluate's source would be rewritten by the TS loader.
      const load = new Function('u', 'return import(u)') as (u: string) => Promise<LandmarkerWindow['face']>;
      const w = window as unknown as LandmarkerWindow;
      w.face = await load('/face.js');
      w.landmarker = await w.face.createFaceLandmarker({ wasm: '/wasm', model: '/face_landmarker.task', delegate: 'CPU', runningMode: 'IMAGE', numFaces });
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
