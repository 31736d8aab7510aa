// The idn engine's onnxruntime-web sessions: the generator, the two
// conditioning models (loaded on the first identity), and per identity a
// generator with its tensors baked in.
import { AwaitQueue } from 'awaitqueue';
import * as ort from 'onnxruntime-web';
import { bakeInitializers } from '@guise/face/idn/onnxBake';
import { conditionIdentity, type AlignedSource, type ConditioningSessions } from '@guise/face/idn/conditioning';
import type { IdnModel } from '@guise/face/idn/manifest';
import type { IdentityPack } from '@guise/face/pack';
import type { IdnBackend } from '../types.ts';

/** Where the engine loads its model folder and onnxruntime-web's wasm from (same origin, so COEP allows them). */
export interface IdnAssets { idnModel: string; ortWasm: string }

/**
 * Every runtime call goes through this one queue: onnxruntime-web allows one
 * call at a time per runtime instance, across ALL sessions (of every engine
 * in this worker). A run (or session creation) started while another is in
 * flight fails with "Session already started": its JSEP build keeps one
 * module-global "current run". Per-frame runs, identity preparation and
 * background baking all overlap in the worker.
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

export class IdnSessions {
  private conditioning: Promise<ConditioningSessions> | undefined;
  private readonly baked = new Set<ort.InferenceSession>();

  private constructor(
    private readonly modelUrl: string,
    private readonly options: ort.InferenceSession.SessionOptions,
    private readonly generatorBytes: Uint8Array,
    private readonly generator: ort.InferenceSession,
  ) {}

  static async create(assets: IdnAssets, backend?: IdnBackend): Promise<IdnSessions> {
    configureOrt(assets.ortWasm);
    const options: ort.InferenceSession.SessionOptions = { executionProviders: [backend ?? (await chooseBackend())], graphOptimizationLevel: 'all' };
    // Kept as bytes: each baked generator is these with an identity's tensors as initializers.
    const bytes = new Uint8Array(await (await fetch(`${assets.idnModel}generator.onnx`)).arrayBuffer());
    const generator = await queue.push(() => ort.InferenceSession.create(bytes, options));
    return new IdnSessions(assets.idnModel, options, bytes, generator);
  }

  /** identity.onnx + conditioner.onnx on the aligned source face → its pack (the sessions load on first use). */
  async condition(face: AlignedSource, model: IdnModel, label: string): Promise<IdentityPack> {
    this.conditioning ??= Promise.all([this.load('identity.onnx'), this.load('conditioner.onnx')])
      .then(([identity, conditioner]) => ({ identity, conditioner }));
    const sessions = await this.conditioning;
    // Two photos can be prepared at once (a sample and an upload), and frames keep coming.
    return queue.push(() => conditionIdentity(ort, sessions, face, model, { label }));
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
    void queue.push(() => this.generator.release());
    for (const s of this.baked) void queue.push(() => s.release());
    this.baked.clear();
    void this.conditioning?.then(({ identity, conditioner }) => queue.push(() => Promise.all([identity.release(), conditioner.release()])), () => {});
  }

  private load(name: string): Promise<ort.InferenceSession> {
    return queue.push(() => ort.InferenceSession.create(`${this.modelUrl}${name}`, this.options));
  }
}
