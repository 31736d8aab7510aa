/// <reference lib="webworker" />
// The idn engine's onnxruntime-web, in a worker of its own: the generator
// (and, per identity, one with its tensors baked in) and the conditioning
// models (identity.onnx + conditioner.onnx: a photo's face → its pack). wasm
// runs synchronously, so in the camera worker a generator run held the frame
// loop for its whole length; here it runs beside it, and the camera worker
// keeps pasting the newest face it has. The camera worker's IdnSessions
// starts it and calls it through Comlink.
import * as Comlink from 'comlink';
import { AwaitQueue } from 'awaitqueue';
import * as ort from 'onnxruntime-web';
import { conditionIdentity, type AlignedSource, type ConditioningSessions } from '@guise/face/idn/conditioning';
import type { IdnModel } from '@guise/face/idn/manifest';
import { bakeInitializers, type BakedTensor } from '@guise/face/idn/onnxBake';
import type { IdentityPack } from '@guise/face/pack';
import type { IdnBackend } from '../types.ts';

/**
 * From this crop size on, each identity also gets its own generator session
 * with its tensors baked in as initializers, built in the background: the
 * runtime pre-packs them. Measured by `pnpm bench` (wasm, 2 threads, median):
 * at 224, 25 ms baked vs 41 ms fed; at 128 baking lost (15 vs 9 ms).
 */
const BAKE_FROM_CROP = 224;

/** The model's files, as bytes. */
export interface IdnModelBytes { generator: Uint8Array; identity: Uint8Array; conditioner: Uint8Array }

/** One generator run's outputs: the swapped crop (planar RGB) and its mask. */
export interface Generated { swapped: Float32Array; mask: Float32Array; ms: number }

interface Identity {
  feeds: Record<string, ort.Tensor>;
  /** Its own baked generator: undefined where baking doesn't pay, null while it builds. */
  baked?: ort.InferenceSession | null;
}

/** WebGPU when a real adapter exists (a software one is slower than wasm), else wasm with SIMD and threads. */
async function chooseBackend(): Promise<IdnBackend> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return adapter && !adapter.info?.isFallbackAdapter ? 'webgpu' : 'wasm';
}

/** `a` where it is the whole of a plain ArrayBuffer (so it can be transferred), else a copy. */
function ownBuffer(a: Float32Array): Float32Array<ArrayBuffer> {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength
    ? a as Float32Array<ArrayBuffer> : a.slice();
}

export class IdnWorker {
  /**
   * Every runtime call goes through this one queue: onnxruntime-web allows one
   * call at a time per instance, across all sessions ("Session already
   * started"). Frames, conditioning and baking take turns.
   */
  private readonly queue = new AwaitQueue();
  /** The generator's session (frames need only it: a cached identity swaps as soon as it is up), then the conditioning ones. */
  private generator: Promise<{ session: ort.InferenceSession; options: ort.InferenceSession.SessionOptions }> | undefined;
  private conditioning: Promise<ConditioningSessions> | undefined;
  private generatorBytes: Uint8Array | undefined;
  private crop = 0;
  private readonly identities = new Map<number, Identity>();

  /** Creates the sessions from the model's bytes on `backend` (chosen here when absent); resolves with the backend used. */
  async load(ortWasm: string, bytes: IdnModelBytes, crop: number, backend?: IdnBackend): Promise<IdnBackend> {
    if (this.generator) throw new Error('the idn sessions are loaded already');
    ort.env.wasm.wasmPaths = ortWasm;
    // One core stays with the camera worker's frame loop, which runs beside
    // this one. Threads need cross-origin isolation (SharedArrayBuffer).
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) : 1;
    const chosen = backend ?? await chooseBackend();
    // Idle pool threads sleep rather than spin: spinning took the frame loop's CPU.
    const extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
    const options: ort.InferenceSession.SessionOptions = { executionProviders: [chosen], graphOptimizationLevel: 'all', extra };
    // Conditioning runs once per photo: wasm everywhere.
    const cpu: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', extra };
    this.generatorBytes = bytes.generator;
    this.crop = crop;
    this.generator = this.queue.push(async () => ({ session: await ort.InferenceSession.create(bytes.generator, options), options }));
    this.conditioning = this.queue.push(async () => ({
      identity: await ort.InferenceSession.create(bytes.identity, cpu),
      conditioner: await ort.InferenceSession.create(bytes.conditioner, cpu),
    }));
    this.conditioning.catch(() => {}); // surfaced by condition()
    await this.generator;
    return chosen;
  }

  /** identity.onnx + conditioner.onnx on an aligned source face → its pack. */
  async condition(face: AlignedSource, model: IdnModel, label: string): Promise<IdentityPack> {
    if (!this.conditioning) throw new Error('the idn sessions are not loaded');
    const conditioning = await this.conditioning;
    const pack = await this.queue.push(() => conditionIdentity(ort, conditioning, face, model, { label }));
    // Each buffer once: two tensors may be views of one.
    return Comlink.transfer(pack, [...new Set(pack.tensors.map((t) => t.data.buffer as ArrayBuffer))]);
  }

  /** Keeps an identity's tensors (fp32) under `id` for generate(); from BAKE_FROM_CROP on, bakes its own generator meanwhile. */
  async addIdentity(id: number, tensors: BakedTensor[]): Promise<void> {
    const { options } = await this.loaded();
    const identity: Identity = { feeds: Object.fromEntries(tensors.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)])) };
    this.identities.set(id, identity);
    if (this.crop < BAKE_FROM_CROP) return;
    identity.baked = null;
    void this.queue.push(() => ort.InferenceSession.create(bakeInitializers(this.generatorBytes!, tensors), options)).then((s) => {
      if (this.identities.get(id) === identity) identity.baked = s;
      else void this.queue.push(() => s.release()); // forgotten meanwhile
    }, () => {});
  }

  forget(id: number): void {
    const baked = this.identities.get(id)?.baked;
    this.identities.delete(id);
    if (baked) void this.queue.push(() => baked.release());
  }

  /** One generator run on `input` (the crop, plus the guide where the model has one) with identity `id`. */
  async generate(input: Float32Array, dims: readonly number[], id: number): Promise<Generated> {
    const { session: generator } = await this.loaded();
    const identity = this.identities.get(id);
    if (!identity) throw new Error(`no identity ${id} in the idn worker`);
    const session = identity.baked ?? generator;
    const crop = new ort.Tensor('float32', input, dims);
    const feeds = identity.baked ? { [session.inputNames[0]!]: crop } : { [session.inputNames[0]!]: crop, ...identity.feeds };
    const t0 = performance.now();
    const result = await this.queue.push(() => session.run(feeds));
    const ms = performance.now() - t0;
    const swapped = ownBuffer(result[session.outputNames[0]!]!.data as Float32Array);
    const mask = ownBuffer(result[session.outputNames[1]!]!.data as Float32Array);
    return Comlink.transfer({ swapped, mask, ms }, [swapped.buffer, mask.buffer]);
  }

  async close(): Promise<void> {
    const all = [...this.identities.values()].flatMap((i) => (i.baked ? [i.baked] : []));
    this.identities.clear();
    const generator = await this.generator?.catch(() => undefined);
    const conditioning = await this.conditioning?.catch(() => undefined);
    if (generator) all.push(generator.session);
    if (conditioning) all.push(conditioning.identity, conditioning.conditioner);
    await this.queue.push(() => Promise.all(all.map((s) => s.release())));
  }

  private loaded() {
    if (!this.generator) throw new Error('the idn sessions are not loaded');
    return this.generator;
  }
}

Comlink.expose(new IdnWorker());
