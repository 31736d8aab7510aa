// Node side of page.ts: bundles browser code with esbuild for pages served
// from Node (headless Chromium), and says where tasks-vision's wasm lives.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

/** tasks-vision's wasm folder (the copy the face package's landmarker loads). */
export const visionWasmDir = path.dirname(require.resolve('@mediapipe/tasks-vision/vision_wasm_internal.wasm'));

/** One ES module with every import bundled in. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'esm', target: 'es2022', platform: 'browser', write: false, logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

let facePage: Promise<string> | undefined;

/** page.ts bundled (made once per process): `import(url)` in a page gives `typeof import('@guise/face/page')`. */
export function facePageScript(): Promise<string> {
  facePage ??= bundleForBrowser(fileURLToPath(new URL('./page.ts', import.meta.url)));
  return facePage;
}
