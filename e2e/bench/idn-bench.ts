// The neural engine's costs, all measured in one run in headless Chromium with
// onnxruntime-web: the generator per frame at 224 and 128 (wasm, and WebGPU on
// SwiftShader for reference), with the identity tensors fed as inputs vs baked
// in as initializers; identity + conditioner once per identity; the pack size;
// and the params/MACs counted from the ONNX files. Also the warp-guided 128
// generator (7-channel input, as models/idn/trained-128-guided; wasm, fed) and
// its per-frame guide warp (TriangleWarp on the fixture's real landmarks, timed
// here in Node: pure JS on the same V8 as the app's worker).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bakeInitializers } from '@guise/face/idn/onnxBake';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { triangles } from '@guise/face/mesh';
import { TriangleWarp } from '@guise/face/triangleWarp';
import { encodePack, float32ToFloat16Bits } from '@guise/face/pack';
import { launchParticipant, openApp } from '../lib/browser.ts';
import { randomIdnModel } from '../lib/models.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';
import { importInPage } from '../lib/pageImport.ts';

export interface IdnCount { crop: number; params: number; perIdentityParams: number; sharedParams: number; gmacs: number }
export interface IdnTiming { crop: number; backend: string; weights: 'inputs' | 'initializers'; msMedian: number; msP90: number }
/** The warp-guided generator at 128 (wasm, identity fed) and its guide warp, per frame. */
export interface IdnGuidedTiming { crop: 128; generatorMsMedian: number; generatorMsP90: number; warpMsMedian: number; warpMsP90: number }
export interface IdnBenchResult { counts: IdnCount[]; timings: IdnTiming[]; guided: IdnGuidedTiming; identityPlusConditionerMs: number; packBytes: number }

const stats = (xs: number[], digits: number) => { const s = [...xs].sort((a, b) => a - b); return { msMedian: +s[Math.floor(s.length / 2)]!.toFixed(digits), msP90: +s[Math.floor(s.length * 0.9)]!.toFixed(digits) }; };

/** The guide warp at 128 as the engine runs it: fixture face 0 (its 224 crop) onto face 1's landmarks. */
function benchWarp(iterations: number): { msMedian: number; msP90: number } {
  const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot, 'models/tests/fixtures/guide_landmarks.json'), 'utf8')) as { faces: { landmarks224: number[][] }[] };
  const srcXY = Float64Array.from(fixture.faces[0]!.landmarks224.flat());
  const dstXY = Float64Array.from(fixture.faces[1]!.landmarks224.flat(), (v) => v * (128 / 224));
  const src = { data: Uint8Array.from({ length: 224 * 224 * 3 }, (_, i) => (i * 7) % 256), width: 224, height: 224, channels: 3 };
  const warp = new TriangleWarp(128, 128, triangles());
  const input = new Float32Array(7 * 128 * 128);
  for (let i = 0; i < 30; i++) warp.warp(src, srcXY, dstXY, input, 3 * 128 * 128); // warm up the JIT
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) { const t = performance.now(); warp.warp(src, srcXY, dstXY, input, 3 * 128 * 128); ms.push(performance.now() - t); }
  return stats(ms, 2); // a millisecond or so: one more digit
}

function python(): string {
  return execFileSync('bash', [path.join(repoRoot, 'models/setup.sh')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

function count(dir: string, crop: number): IdnCount {
  const out = execFileSync(python(), ['-m', 'idn.count', dir, '--json'], { cwd: path.join(repoRoot, 'models'), encoding: 'utf8' });
  const j = JSON.parse(out) as { params: { shared: number; per_identity: number; total: number }; macs: { total: number } };
  return {
    crop,
    params: j.params.total,
    perIdentityParams: j.params.per_identity,
    sharedParams: j.params.shared,
    gmacs: +(j.macs.total / 1e9).toFixed(4),
  };
}

export async function benchIdn(iterations = 30): Promise<IdnBenchResult> {
  const dirs = { 224: randomIdnModel(224), 128: randomIdnModel(128), guided: randomIdnModel(128, 4) };
  const counts = [count(dirs[224], 224), count(dirs[128], 128)];

  // Identity tensors of the right shapes, and the generator with them baked in.
  type Io = { name: string; shape: number[] };
  const shapesOf = (dir: string) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { outputs: Io[] }> };
    return Object.fromEntries(manifest.files['conditioner.onnx']!.outputs.map((o) => [o.name, o.shape]));
  };
  const generators = { 224: new Uint8Array(fs.readFileSync(path.join(dirs[224], 'generator.onnx'))), 128: new Uint8Array(fs.readFileSync(path.join(dirs[128], 'generator.onnx'))) };
  const guidedGenerator = fs.readFileSync(path.join(dirs.guided, 'generator.onnx'));
  // The guided encoder's first layer takes 7 channels: its enc_dw_0 and enc_pw_0 differ.
  const shapes = shapesOf(dirs[224]), guidedShapes = shapesOf(dirs.guided);
  const tensors = IDENTITY_TENSORS.map((name) => {
    const dims = shapes[name];
    if (!dims) throw new Error(`manifest lacks the shape of ${name}`);
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => (Math.random() - 0.5) * 0.1);
    return { name, dims, data };
  });
  const baked = { 224: bakeInitializers(generators[224], tensors), 128: bakeInitializers(generators[128], tensors) };
  const packBytes = encodePack({
    engine: 'idn', label: 'bench', createdAt: new Date().toISOString(), meta: {},
    tensors: tensors.map((t) => ({ name: t.name, dtype: 'f16', shape: t.dims, data: float32ToFloat16Bits(t.data) })),
  }).byteLength;

  const server = await startServer({ LOG_LEVEL: 'warn', IDN_MODEL_DIR: dirs[224] });
  const p = await launchParticipant(fakeCamera('glasses'), { extraArgs: ['--enable-unsafe-webgpu'] });
  try {
    const ortDir = path.join(repoRoot, 'client/node_modules/onnxruntime-web/dist');
    await p.page.route('**/__bench/**', (route) => {
      const name = path.basename(new URL(route.request().url()).pathname);
      if (name === 'ort.mjs') return route.fulfill({ path: path.join(ortDir, 'ort.all.bundle.min.mjs'), headers: { 'Content-Type': 'text/javascript' } });
      if (name === 'generator-128-guided.onnx') return route.fulfill({ body: guidedGenerator });
      const m = /^generator-(224|128)(-baked)?\.onnx$/.exec(name);
      if (m) return route.fulfill({ body: Buffer.from((m[2] ? baked : generators)[m[1] === '224' ? 224 : 128]) });
      return route.fulfill({ status: 404 });
    });
    // tsx (esbuild keepNames) wraps named functions in __name(); give the page one.
    await p.page.addInitScript('window.__name = (f) => f');
    await openApp(p.page, `${server.url}/?room=bench-idn&name=Bench`);
    await importInPage(p.page, '/__bench/ort.mjs', '__benchOrt');
    const result = await p.page.evaluate(async ({ iterations, shapes, guidedShapes }) => {
      const ort = (window as unknown as { __benchOrt: any }).__benchOrt;
      ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
      ort.env.wasm.numThreads = crossOriginIsolated ? 2 : 1;
      const fetchBytes = async (u: string) => new Uint8Array(await (await fetch(u)).arrayBuffer());
      const model = async (crop: number, weights: string) => fetchBytes(`/__bench/generator-${crop}${weights === 'initializers' ? '-baked' : ''}.onnx`);
      const rand = (dims: number[]) => new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random()), dims);
      const identityOf = (s: Record<string, number[]>) => Object.fromEntries(Object.entries(s).map(([n, d]) => [n, rand(d.map((x) => x * 1))]));
      const identity = identityOf(shapes);
      const timings: { crop: number; backend: string; weights: string; msMedian: number; msP90: number }[] = [];
      const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { msMedian: +s[Math.floor(s.length / 2)]!.toFixed(1), msP90: +s[Math.floor(s.length * 0.9)]!.toFixed(1) }; };
      // The app starts in this tab too (FaceLandmarker, its worker): a throwaway pass
      // first, or whichever row is measured first reads several times slower.
      const settle = await ort.InferenceSession.create(await model(128, 'inputs'), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      for (let i = 0; i < 40; i++) await settle.run({ target: rand([1, 3, 128, 128]), ...identity });
      await settle.release();
      for (const backend of ['wasm', 'webgpu']) {
        for (const crop of [224, 128]) {
          for (const weights of ['inputs', 'initializers'] as const) {
            if (backend === 'webgpu' && weights === 'initializers') continue;
            let session;
            try { session = await ort.InferenceSession.create(await model(crop, weights), { executionProviders: [backend], graphOptimizationLevel: 'all' }); }
            catch (e) { timings.push({ crop, backend: `${backend} (unavailable: ${String(e).slice(0, 60)})`, weights, msMedian: NaN, msP90: NaN }); continue; }
            const feeds = { target: rand([1, 3, crop, crop]), ...(weights === 'inputs' ? identity : {}) };
            // WebGPU here is SwiftShader on the CPU, seconds a frame: one run tells enough.
            const runs = backend === 'webgpu' ? 1 : iterations;
            for (let i = 0; i < (backend === 'webgpu' ? 1 : 3); i++) await session.run(feeds); // warm-up
            const ms: number[] = [];
            for (let i = 0; i < runs; i++) { const t = performance.now(); await session.run(feeds); ms.push(performance.now() - t); }
            timings.push({ crop, backend, weights, ...stats(ms) });
            await session.release();
          }
        }
      }
      // The warp-guided 128 generator, as the 128 row: wasm, identity fed, 3 warm-up runs.
      const guidedSession = await ort.InferenceSession.create(await fetchBytes('/__bench/generator-128-guided.onnx'), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      const guidedFeeds = { target: rand([1, 7, 128, 128]), ...identityOf(guidedShapes) };
      for (let i = 0; i < 3; i++) await guidedSession.run(guidedFeeds);
      const guidedMs: number[] = [];
      for (let i = 0; i < iterations; i++) { const t = performance.now(); await guidedSession.run(guidedFeeds); guidedMs.push(performance.now() - t); }
      const guided = stats(guidedMs);
      await guidedSession.release();
      // Once per identity: identity encoder + conditioner (wasm).
      const idSession = await ort.InferenceSession.create('/models/idn/identity.onnx', { executionProviders: ['wasm'] });
      const condSession = await ort.InferenceSession.create('/models/idn/conditioner.onnx', { executionProviders: ['wasm'] });
      const prep: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const id = await idSession.run({ [idSession.inputNames[0]]: rand([1, 3, 224, 224]) });
        await condSession.run({ [condSession.inputNames[0]]: id[idSession.outputNames[0]], [condSession.inputNames[1]]: id[idSession.outputNames[1]] });
        prep.push(performance.now() - t);
      }
      return { timings, guided, identityPlusConditionerMs: stats(prep.slice(1)).msMedian };
    }, { iterations, shapes, guidedShapes });
    const warp = benchWarp(iterations);
    const guided: IdnGuidedTiming = { crop: 128, generatorMsMedian: result.guided.msMedian, generatorMsP90: result.guided.msP90, warpMsMedian: warp.msMedian, warpMsP90: warp.msP90 };
    return { counts, timings: result.timings as IdnTiming[], guided, identityPlusConditionerMs: result.identityPlusConditionerMs, packBytes };
  } finally {
    await p.close();
    await server.stop();
  }
}
