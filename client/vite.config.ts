import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import fs from 'node:fs';
import { viteStaticCopy } from 'vite-plugin-static-copy';

// The Guise server serves client/dist in production; in dev, Vite serves the
// page and forwards signaling to a server running on :3000.
const server = process.env.GUISE_SERVER ?? 'http://localhost:3000';

// Same headers as the server sends, so dev behaves like production
// (cross-origin isolation is what the threaded-wasm face swap will need).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// The swap worker loads these at run time, from the app's own origin (no CDN:
// models ship with the app, and cross-origin isolation forbids foreign assets).
//
// The neural engine's model: a converted official checkpoint if the person has
// one (models/idn/official-224, see models/convert_official), else the model
// trained here. None is shipped when neither exists: the app then offers the
// mesh engine only. Random-weight exports are for tests and never copied.
const idnModel = [process.env.GUISE_IDN_MODEL, '../models/idn/official-224', '../models/idn/trained-128-guided', '../models/idn/trained-128-faithful']
  .find((dir) => dir && fs.existsSync(`${dir}/generator.onnx`));

const runtimeAssets = viteStaticCopy({
  targets: [
    // Plain wasm (SIMD + threads) and the JSEP build that carries WebGPU.
    { src: 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.{mjs,wasm}', dest: 'ort', rename: { stripBase: true as const } },
    { src: 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.{mjs,wasm}', dest: 'ort', rename: { stripBase: true as const } },
    ...(idnModel ? [{ src: `${idnModel}/{identity,conditioner,generator}.onnx`, dest: 'models/idn', rename: { stripBase: true as const } },
      { src: `${idnModel}/manifest.json`, dest: 'models/idn', rename: { stripBase: true as const } }] : []),
    { src: 'node_modules/@mediapipe/tasks-vision/wasm/*', dest: 'mediapipe/wasm', rename: { stripBase: true as const } },
    { src: '../models/face_landmarker/*.task', dest: 'models', rename: { stripBase: true as const } },
  ],
});

export default defineConfig({
  plugins: [svelte(), runtimeAssets],
  worker: { format: 'es' },
  build: {
    outDir: 'dist', emptyOutDir: true, target: 'es2022',
    // The call app, and the output page (/output: one participant's video, for OBS).
    rollupOptions: { input: { main: 'index.html', output: 'output/index.html' } },
  },
  server: {
    headers: isolation,
    proxy: {
      '/socket.io': { target: server, ws: true, changeOrigin: true },
      '/healthz': { target: server, changeOrigin: true },
    },
  },
  preview: { headers: isolation },
});
