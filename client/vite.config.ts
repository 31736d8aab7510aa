import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
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
const runtimeAssets = viteStaticCopy({
  targets: [
    { src: 'node_modules/@mediapipe/tasks-vision/wasm/*', dest: 'mediapipe/wasm', rename: { stripBase: true } },
    { src: '../models/face_landmarker/*.task', dest: 'models', rename: { stripBase: true } },
  ],
});

export default defineConfig({
  plugins: [svelte(), runtimeAssets],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    headers: isolation,
    proxy: {
      '/socket.io': { target: server, ws: true, changeOrigin: true },
      '/healthz': { target: server, changeOrigin: true },
    },
  },
  preview: { headers: isolation },
});
