// The neural `idn` engine: MobileFaceSwap's IDN on onnxruntime-web. Once per
// identity, identity.onnx + conditioner.onnx turn the source face into the 18
// per-identity tensors (the pack); per frame, generator.onnx swaps the aligned
// target crop with them, and the crop is pasted back through its mask.
// The warp-guided variant (manifest guide_channels = 4) also gets, per frame,
// the source face warped onto the target's landmarks (guide.ts).
import * as ort from 'onnxruntime-web';
import { alignmentFor } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import * as mesh from '@guise/face/mesh';
import { TriangleWarp } from '@guise/face/triangleWarp';
import { float16BitsToFloat32, float32ToFloat16Bits, tensor, type IdentityPack } from '@guise/face/pack';
import type { AssetUrls, IdnBackend } from '../../pipeline/messages.ts';
import type { EngineTimings, FaceGeometry, SwapEngine } from '../types.ts';
import { planarToRgba, rgbaToPlanar, setAffine } from '@guise/face/crop';
import { checkGuideChannels, guideSource, guideTensors, landmarksToCrop, type GuideSource } from '@guise/face/idn/guide';
import { fetchIdnManifest } from '@guise/face/idn/manifest';
import { idnPackMeta, idnPackProblem } from '@guise/face/idn/packFit';
import { bakeInitializers } from '@guise/face/idn/onnxBake';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';

/**
 * From this crop size on, each identity also gets its own generator session
 * with its tensors baked in as initializers, built in the background: the
 * runtime pre-packs them. Measured by `pnpm bench` (wasm, 2 threads, median):
 * at 224, 25 ms baked vs 41 ms fed; at 128 baking lost (15 vs 9 ms).
 */
const BAKE_FROM_CROP = 224;

/** The identity encoder's input: the source face aligned at 224 (the IIM's convention). */
const IDENTITY_CROP = 224;

/** WebGPU when a real adapter exists (a software one is slower than wasm), else wasm with SIMD and threads. */
async function chooseBackend(): Promise<IdnBackend> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter && !adapter.info?.isFallbackAdapter ? 'webgpu' : 'wasm';
}

/**
 * onnxruntime-web allows one call at a time per runtime instance, across ALL
 * sessions: a run (or session creation) started while another is in flight
 * fails with "Session already started" (its JSEP build keeps one module-global
 * "current run"). Per-frame runs, identity preparation and background baking
 * all overlap in the worker, so every call goes through this queue.
 */
let ortQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(job: () => Promise<T>): Promise<T> {
  const next = ortQueue.then(job, job);
  ortQueue = next.catch(() => undefined);
  return next;
}

export async function createIdnEngine(assets: AssetUrls, requested?: IdnBackend): Promise<SwapEngine> {
  const model = await fetchIdnManifest(assets.idnModel);
  if (!model) throw new Error(`no usable neural swap model at ${assets.idnModel}`);
  const { manifest } = model;
  const guideChannels = checkGuideChannels(manifest.guide_channels, manifest.input_channels);
  const backend = requested ?? (await chooseBackend());
  ort.env.wasm.wasmPaths = assets.ortWasm;
  // Threads need cross-origin isolation (SharedArrayBuffer); the server sends COOP/COEP.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 2) : 1;
  const options: ort.InferenceSession.SessionOptions = { executionProviders: [backend], graphOptimizationLevel: 'all' };
  const load = (name: string) => oneAtATime(() => ort.InferenceSession.create(`${assets.idnModel}${name}`, options));
  const generatorBytes = new Uint8Array(await (await fetch(`${assets.idnModel}generator.onnx`)).arrayBuffer());
  const generator = await oneAtATime(() => ort.InferenceSession.create(generatorBytes, options));
  /** Per pack: its baked generator once built (null while building or where baking doesn't pay). */
  const baked = new WeakMap<IdentityPack, ort.InferenceSession | null>();
  const bakedSessions = new Set<ort.InferenceSession>(); // to release them all on dispose
  const bakeInBackground = (pack: IdentityPack) => {
    if (manifest.crop < BAKE_FROM_CROP || baked.has(pack)) return;
    baked.set(pack, null);
    const f = identityFeeds(pack);
    const tensors = IDENTITY_TENSORS.map((name) => ({ name, dims: f[name]!.dims, data: f[name]!.data as Float32Array }));
    // The fed session keeps serving frames meanwhile; the switch is one assignment.
    void oneAtATime(() => ort.InferenceSession.create(bakeInitializers(generatorBytes, tensors), options))
      .then((s) => {
        if (!baked.has(pack)) return void oneAtATime(() => s.release());
        baked.set(pack, s);
        bakedSessions.add(s);
      }, () => {});
  };
  let conditioning: Promise<[ort.InferenceSession, ort.InferenceSession]> | undefined;

  const size = manifest.crop;
  const crop = new OffscreenCanvas(size, size);
  const cropCtx = crop.getContext('2d', { willReadFrequently: true })!;
  const out = new OffscreenCanvas(1, 1);
  const outCtx = out.getContext('2d')!;
  const channels = 3 + guideChannels;
  // Channels 0-2: the target crop; with the guide, 3-5 the warped source and 6 its mask.
  const input = new Float32Array(channels * size * size);
  const inputTensor = new ort.Tensor('float32', input, [1, channels, size, size]);
  const warp = guideChannels ? new TriangleWarp(size, size, mesh.triangles()) : undefined;
  const targetLandmarks = new Float64Array(mesh.LANDMARK_COUNT * 2);
  const guides = new WeakMap<IdentityPack, GuideSource>();
  const pasted = new ImageData(size, size);
  const feeds = new WeakMap<IdentityPack, Record<string, ort.Tensor>>();
  const timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  const innerLips = mesh.innerLips();

  /** The per-identity tensors as generator inputs, made once per pack. */
  const identityFeeds = (pack: IdentityPack) => {
    let f = feeds.get(pack);
    if (!f) {
      f = {};
      for (const name of IDENTITY_TENSORS) {
        const t = tensor(pack, name);
        const data = t.dtype === 'f16' ? float16BitsToFloat32(t.data as Uint16Array) : (t.data as Float32Array);
        f[name] = new ort.Tensor('float32', data, t.shape);
      }
      feeds.set(pack, f);
    }
    return f;
  };

  /** The pack's guide source, checked once per pack. */
  const guideFor = (pack: IdentityPack) => {
    let g = guides.get(pack);
    if (!g) { g = guideSource(pack); guides.set(pack, g); }
    return g;
  };

  const align = (face: FaceGeometry, cropSize: number) => {
    const pts = face.points;
    const landmarks = Array.from({ length: pts.length / 3 }, (_, i) => ({ x: pts[i * 3]! / face.width, y: pts[i * 3 + 1]! / face.height }));
    return alignmentFor(fivePoints(landmarks, face.width, face.height), cropSize);
  };

  return {
    kind: 'idn',
    timings,

    async prepareIdentity(photo, face, label) {
      conditioning ??= Promise.all([load('identity.onnx'), load('conditioner.onnx')]);
      const [identity, conditioner] = await conditioning;
      const c = new OffscreenCanvas(IDENTITY_CROP, IDENTITY_CROP);
      const ctx = c.getContext('2d', { willReadFrequently: true })!;
      const { toCrop } = align(face, IDENTITY_CROP);
      setAffine(ctx, toCrop);
      ctx.drawImage(photo, 0, 0);
      const pixels = ctx.getImageData(0, 0, IDENTITY_CROP, IDENTITY_CROP).data;
      const faceTensor = new ort.Tensor('float32', rgbaToPlanar(pixels, IDENTITY_CROP, new Float32Array(3 * IDENTITY_CROP ** 2)), [1, 3, IDENTITY_CROP, IDENTITY_CROP]);
      // Two photos can be prepared at once (a sample and an upload), and frames keep coming.
      const cond = await oneAtATime(async () => {
        const id = await identity.run({ [identity.inputNames[0]!]: faceTensor });
        return conditioner.run({
          [conditioner.inputNames[0]!]: id[identity.outputNames[0]!]!,
          [conditioner.inputNames[1]!]: id[identity.outputNames[1]!]!,
        });
      });
      return {
        engine: 'idn',
        label,
        createdAt: new Date().toISOString(),
        // Names the model: a pack is only valid for the model that made it (packFit.ts).
        meta: idnPackMeta(model),
        // fp16 halves the pack (about 0.8 MB); the generator gets fp32 back.
        tensors: [
          ...IDENTITY_TENSORS.map((name) => {
            const t = cond[name];
            if (!t) throw new Error(`conditioner.onnx has no output ${name}`);
            return { name, dtype: 'f16' as const, shape: [...t.dims], data: float32ToFloat16Bits(t.data as Float32Array) };
          }),
          // The warp guide's source (150 KB): the same crop and its landmarks.
          ...(guideChannels ? guideTensors(pixels, face.points, toCrop) : []),
        ],
      };
    },

    async swap(frame, face, pack, swapOptions) {
      const t0 = performance.now();
      const width = 'displayWidth' in frame ? frame.displayWidth : frame.width;
      const height = 'displayHeight' in frame ? frame.displayHeight : frame.height;
      const { toCrop, toFrame } = align(face, size);
      cropCtx.setTransform(1, 0, 0, 1, 0, 0);
      cropCtx.clearRect(0, 0, size, size);
      setAffine(cropCtx, toCrop);
      cropCtx.drawImage(frame, 0, 0);
      rgbaToPlanar(cropCtx.getImageData(0, 0, size, size).data, size, input);
      if (warp) {
        // The guide, on the same toCrop the crop was cut with: counted in engineMs.
        const g = guideFor(pack);
        warp.warp(g.image, g.landmarks, landmarksToCrop(face.points, toCrop, targetLandmarks), input, 3 * size * size);
      }
      bakeInBackground(pack);
      const own = baked.get(pack);
      const result = own
        ? await oneAtATime(() => own.run({ [own.inputNames[0]!]: inputTensor }))
        : await oneAtATime(() => generator.run({ [generator.inputNames[0]!]: inputTensor, ...identityFeeds(pack) }));
      const outputs = (own ?? generator).outputNames;
      const swapped = result[outputs[0]!]!.data as Float32Array;
      const mask = result[outputs[1]!]!.data as Float32Array;
      const t1 = performance.now();

      // Paste back: the frame, then the swapped crop through its (feathered) mask.
      if (out.width !== width || out.height !== height) { out.width = width; out.height = height; }
      outCtx.setTransform(1, 0, 0, 1, 0, 0);
      outCtx.drawImage(frame, 0, 0);
      planarToRgba(swapped, mask, size, Math.round(size * 0.06), pasted.data);
      cropCtx.setTransform(1, 0, 0, 1, 0, 0);
      cropCtx.putImageData(pasted, 0, 0);
      setAffine(outCtx, toFrame);
      outCtx.drawImage(crop, 0, 0);
      // Like the mesh engine's option: the person's own mouth interior (teeth,
      // tongue) shows through as they talk.
      if (swapOptions.keepMouth) {
        outCtx.setTransform(1, 0, 0, 1, 0, 0);
        outCtx.save();
        outCtx.beginPath();
        for (const [k, i] of innerLips.entries()) {
          const x = face.points[i * 3]!, y = face.points[i * 3 + 1]!;
          if (k === 0) outCtx.moveTo(x, y); else outCtx.lineTo(x, y);
        }
        outCtx.closePath();
        outCtx.clip();
        outCtx.drawImage(frame, 0, 0);
        outCtx.restore();
      }
      timings.engineMs = t1 - t0;
      timings.pasteMs = performance.now() - t1;
      return out;
    },

    packProblem(pack) {
      return idnPackProblem(pack, model);
    },

    forget(pack) {
      feeds.delete(pack);
      guides.delete(pack);
      const own = baked.get(pack);
      if (own) { bakedSessions.delete(own); void oneAtATime(() => own.release()); }
      baked.delete(pack);
    },

    dispose() {
      void oneAtATime(() => generator.release());
      for (const s of bakedSessions) void oneAtATime(() => s.release());
      void conditioning?.then(([a, b]) => oneAtATime(() => Promise.all([a.release(), b.release()])), () => {});
    },
  };
}
