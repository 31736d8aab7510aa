// Runs the app's engines outside the app: page/entry.ts (MeshEngine,
// IdnEngine, FaceLandmarker) bundled with esbuild (the face package's
// bundleForBrowser), served with the wasm runtimes, the landmark model, the
// IDN model folders and the images from a local static server with COOP/COEP (cross-origin isolated, so
// onnxruntime-web gets its threads), in headless Chromium via playwright-core.
// Large models are streamed from disk by this server, never through page.route.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundleForBrowser, visionWasmDir } from '@guise/face/pageBundle';
import type { EvalApi } from './page/entry.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const clientModules = path.join(root, 'client/node_modules');

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
};

export interface EvalPage {
  api: <K extends keyof EvalApi>(name: K, ...args: Parameters<EvalApi[K]>) => Promise<Awaited<ReturnType<EvalApi[K]>>>;
  /** Serves `file` as /img/<key>. */
  image(key: string, file: string): void;
  /** Serves a model folder as /models/<name>/ and returns that URL path. */
  model(name: string, dir: string): string;
  crossOriginIsolated: boolean;
  errors: string[];
  close(): Promise<void>;
}

export async function openEvalPage(): Promise<EvalPage> {
  const script = await bundleForBrowser(path.join(here, 'page/entry.ts'));
  // IdnSessions starts its worker from new URL('./idn.worker.ts', import.meta.url),
  // which esbuild leaves as it is: the page asks this server for it, next to /eval.js.
  const idnWorker = await bundleForBrowser(createRequire(import.meta.url).resolve('@guise/client/engines/idn/idn.worker'));
  const images = new Map<string, string>();
  const models = new Map<string, string>();
  const mounts: [string, string][] = [
    ['/vision/wasm/', visionWasmDir],
    ['/ort/', path.join(clientModules, 'onnxruntime-web/dist')],
  ];
  const server = http.createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store',
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const name = decodeURIComponent(url.pathname);
    if (name === '/' || name === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
      return res.end('<!doctype html><meta charset="utf-8"><title>guise quality eval</title><script type="module" src="/eval.js"></script>');
    }
    if (name === '/eval.js' || name === '/idn.worker.ts') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
      return res.end(name === '/eval.js' ? script : idnWorker);
    }
    let file: string | undefined;
    if (name === '/face_landmarker.task') file = path.join(root, 'models/face_landmarker/face_landmarker.task');
    else if (name.startsWith('/img/')) file = images.get(name.slice(5));
    else if (name.startsWith('/models/')) {
      const [, , model, ...rest] = name.split('/');
      const dir = models.get(model!);
      if (dir) file = path.join(dir, ...rest);
    } else {
      for (const [prefix, dir] of mounts) if (name.startsWith(prefix)) file = path.join(dir, name.slice(prefix.length));
    }
    if (file && file.includes('..')) file = undefined;
    fs.stat(file ?? '', (err, st) => {
      if (!file || err || !st.isFile()) { res.writeHead(404, headers); return res.end(); }
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': st.size });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
    });
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // With the URL where the message has one ("Failed to load resource" names none in its text).
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^INFO: Created TensorFlow Lite/.test(m.text())) errors.push(m.location().url ? `${m.text()} (${m.location().url})` : m.text());
    });
    await page.addInitScript('window.__name = (f) => f'); // tsx's keepNames helper, inside evaluate()
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => !!(window as unknown as { evalApi?: unknown }).evalApi, undefined, { timeout: 60_000 });
    const api: EvalPage['api'] = (name, ...args) =>
      page.evaluate(([n, a]) => ((window as any).evalApi[n] as (...x: unknown[]) => unknown)(...(a as unknown[])), [name, args] as const) as never;
    const { crossOriginIsolated } = await api('init', '/face_landmarker.task');
    const b = browser;
    return {
      api,
      image: (key, file) => void images.set(key, file),
      model: (name, dir) => { models.set(name, dir); return `/models/${name}/`; },
      crossOriginIsolated,
      errors,
      close: async () => { await b.close().catch(() => {}); await new Promise((r) => server.close(r)); },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    server.close();
    throw err;
  }
}
