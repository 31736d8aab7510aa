// The idn engine's onnxruntime-web sessions: the generator here, the two
// conditioning models (identity.onnx + conditioner.onnx) in a worker of their
// own (conditioning.worker.ts), and per identity a generator with its tensors
// baked in. The model's files come from modelStore: the Cache Storage copy
// where there is one, else a download reported as it goes.
import { AwaitQueue } from 'awaitqueue';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { bakeInitializers } from '@guise/face/idn/onnxBake';
import type { AlignedSource } from '@guise/face/idn/conditioning';
import type { IdnModel } from '@guise/face/idn/manifest';
import type { IdentityPack } from '@guise/face/pack';
import type { IdnBackend } from '../types.ts';
import type { ConditioningWorker } from './conditioning.worker.ts';
import { modelFiles, type ModelLoad } from './modelFiles.ts';
import { loadModelFiles } from './modelStore.ts';

/** Where the engine loads its model folder and onnxruntime-web's wasm from (same origin, so COEP allows them). */
export interface IdnAssets { idnModel: string; ortWasm: string }

export type { ModelLoad };

/**
 * Every runtime call in this worker goes through this one queue:
 * onnxruntime-web allows one call at a time per runtime instance, across ALL
 * sessions (of every engine in this worker). A run (or session creation)
 * started while another is in flight fails with "Session already started":
 * its JSEP build keeps one module-global "current run". Per-frame runs and
 * background baking overlap here; conditioning runs on its worker's own instance.
 */
const queue = new AwaitQueue();
let ortWasm: string | undefined;

/** onnxruntime-web's settings are global to the worker: set on the first engine, and the same for every later one. */
function configureOrt(wasmPaths: string): void {
  if (ortWasm !== undefined) {
    if (ortWasm !== wasmPaths) throw new Error(`onnxruntime-web is already loaded from ${ortWasm}, not ${wasmPaths}`);
    return;
  }
  ortWasm = wasmPaths;
  ort.env.wasm.wasmPaths = wasmPaths;
  // Threads need cross-origin isolation (SharedArrayBuffer); the server sends COOP/COEP.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 2) : 1;
}

/** WebGPU when a real adapter exists (a software one is slower than wasm), else wasm with SIMD and threads. */
async function chooseBackend(): Promise<IdnBackend> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter && !adapter.info?.isFallbackAdapter ? 'webgpu' : 'wasm';
}

export type Feeds = Record<string, ort.Tensor>;

const MODEL_FILES = ['generator.onnx', 'identity.onnx', 'conditioner.onnx'] as const;

/** The conditioning worker, its sessions loading (or loaded). */
interface Conditioning { worker: Worker; remote: Comlink.Remote<ConditioningWorker>; loaded: Promise<void> }

function startConditioning(ortWasmPaths: string, identity: Uint8Array, conditioner: Uint8Array): Conditioning {
  const worker = new Worker(new URL('./conditioning.worker.ts', import.meta.url), { type: 'module', name: 'guise-idn-conditioning' });
  const remote = Comlink.wrap<ConditioningWorker>(worker);
  // A worker script that fails to load never answers: say so instead of waiting for good.
  const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => {
    reject(new Error(`the identity conditioning worker failed to start: ${e.message || 'its script did not load'}`));
  }, { once: true }));
  // The bytes move to that worker: this one keeps only the generator's.
  const loaded = Promise.race([failed, remote.load(ortWasmPaths, Comlink.transfer(identity, [identity.buffer as ArrayBuffer]), Comlink.transfer(conditioner, [conditioner.buffer as ArrayBuffer]))]);
  loaded.catch(() => {}); // surfaced by condition()
  return { worker, remote, loaded };
}

export class IdnSessions {
  private readonly baked = new Set<ort.InferenceSession>();
  /** Rejects once closed: a conditioning call then in flight would otherwise never settle (its worker is gone). */
  private readonly closed = Promise.withResolvers<never>();

  private constructor(
    private readonly options: ort.InferenceSession.SessionOptions,
    private readonly generatorBytes: Uint8Array,
    private readonly generator: ort.InferenceSession,
    private readonly conditioning: Conditioning,
  ) {}

  /**
   * Gets the model's files (cached, or downloaded with `onLoad` told how far
   * it has got) and starts the sessions: the generator's before this resolves,
   * the conditioning ones meanwhile in their own worker.
   */
  static async create(assets: IdnAssets, model: IdnModel, backend: IdnBackend | undefined, onLoad: (load: ModelLoad) => void = () => {}): Promise<IdnSessions> {
    configureOrt(assets.ortWasm);
    const files = await loadModelFiles(modelFiles(model, new URL(assets.idnModel, self.location.href).href, MODEL_FILES), onLoad);
    const conditioning = startConditioning(assets.ortWasm, files.get('identity.onnx')!, files.get('conditioner.onnx')!);
    try {
      const options: ort.InferenceSession.SessionOptions = { executionProviders: [backend ?? (await chooseBackend())], graphOptimizationLevel: 'all' };
      // Kept as bytes: each baked generator is these with an identity's tensors as initializers.
      const bytes = files.get('generator.onnx')!;
      const generator = await queue.push(() => ort.InferenceSession.create(bytes, options));
      return new IdnSessions(options, bytes, generator, conditioning);
    } catch (err) {
      conditioning.worker.terminate();
      throw err;
    }
  }

  /** identity.onnx + conditioner.onnx on the aligned source face → its pack, in the conditioning worker. */
  async condition(face: AlignedSource, model: IdnModel, label: string): Promise<IdentityPack> {
    const { loaded, remote } = this.conditioning;
    return Promise.race([loaded.then(() => remote.condition(face, model, label)), this.closed.promise]);
  }

  /** One generator run: on `baked` (an identity's own session) with just the crop, else on the shared one with the identity's feeds. */
  async generate(input: ort.Tensor, identity: Feeds, baked?: ort.InferenceSession): Promise<{ swapped: Float32Array; mask: Float32Array }> {
    const session = baked ?? this.generator;
    const feeds = baked ? { [session.inputNames[0]!]: input } : { [session.inputNames[0]!]: input, ...identity };
    const result = await queue.push(() => session.run(feeds));
    return { swapped: result[session.outputNames[0]!]!.data as Float32Array, mask: result[session.outputNames[1]!]!.data as Float32Array };
  }

  /** A generator with `identity`'s tensors baked in as initializers. */
  async bake(identity: Feeds): Promise<ort.InferenceSession> {
    const tensors = Object.entries(identity).map(([name, t]) => ({ name, dims: t.dims, data: t.data as Float32Array }));
    const session = await queue.push(() => ort.InferenceSession.create(bakeInitializers(this.generatorBytes, tensors), this.options));
    this.baked.add(session);
    return session;
  }

  /** Releases a baked generator (when not given, or after close, nothing happens). */
  release(session: ort.InferenceSession): void {
    if (this.baked.delete(session)) void queue.push(() => session.release());
  }

  close(): void {
    this.closed.promise.catch(() => {});
    this.closed.reject(new Error('the idn engine was closed'));
    void queue.push(() => this.generator.release());
    for (const s of this.baked) void queue.push(() => s.release());
    this.baked.clear();
    // Its sessions and wasm memory go with the worker.
    const { worker, remote } = this.conditioning;
    remote[Comlink.releaseProxy]();
    worker.terminate();
  }
}
