// The idn engine's side of its worker (idn.worker.ts), which holds every
// onnxruntime-web session: the model's files come from modelStore (the Cache
// Storage copy where there is one, else a download reported as it goes) and
// move to that worker; identities are registered there once, by number.
import * as Comlink from 'comlink';
import type { AlignedSource } from '@guise/face/idn/conditioning';
import type { IdnModel } from '@guise/face/idn/manifest';
import type { BakedTensor } from '@guise/face/idn/onnxBake';
import type { IdentityPack } from '@guise/face/pack';
import type { IdnBackend } from '../types.ts';
import type { Generated, IdnWorker } from './idn.worker.ts';
import { modelFiles, type ModelLoad } from './modelFiles.ts';
import { loadModelFiles } from './modelStore.ts';

/** Where the engine loads its model folder and onnxruntime-web's wasm from (same origin, so COEP allows them). */
export interface IdnAssets { idnModel: string; ortWasm: string }

export type { Generated, ModelLoad };

const MODEL_FILES = ['generator.onnx', 'identity.onnx', 'conditioner.onnx'] as const;

export class IdnSessions {
  /** Rejects once closed: a call then in flight would otherwise never settle (its worker is gone). */
  private readonly closed = Promise.withResolvers<never>();
  private nextId = 1;

  private constructor(
    private readonly worker: Worker,
    private readonly remote: Comlink.Remote<IdnWorker>,
    /** The backend the generator runs on. */
    readonly backend: IdnBackend,
  ) {
    this.closed.promise.catch(() => {});
  }

  /**
   * Gets the model's files (cached, or downloaded with `onLoad` told how far
   * it has got), starts the worker and its sessions there.
   */
  static async create(assets: IdnAssets, model: IdnModel, backend: IdnBackend | undefined, onLoad: (load: ModelLoad) => void = () => {}): Promise<IdnSessions> {
    const files = await loadModelFiles(modelFiles(model, new URL(assets.idnModel, self.location.href).href, MODEL_FILES), onLoad);
    const worker = new Worker(new URL('./idn.worker.ts', import.meta.url), { type: 'module', name: 'guise-idn' });
    const remote = Comlink.wrap<IdnWorker>(worker);
    // A worker script that fails to load never answers: say so instead of waiting for good.
    const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => {
      reject(new Error(`the idn worker failed to start: ${e.message || 'its script did not load'}`));
    }, { once: true }));
    const bytes = { generator: files.get('generator.onnx')!, identity: files.get('identity.onnx')!, conditioner: files.get('conditioner.onnx')! };
    try {
      const used = await Promise.race([failed, remote.load(assets.ortWasm, Comlink.transfer(bytes, Object.values(bytes).map((b) => b.buffer as ArrayBuffer)), model.manifest.crop, backend)]);
      return new IdnSessions(worker, remote, used);
    } catch (err) {
      worker.terminate();
      throw err;
    }
  }

  /** identity.onnx + conditioner.onnx on the aligned source face → its pack. */
  condition(face: AlignedSource, model: IdnModel, label: string): Promise<IdentityPack> {
    return this.ended(this.remote.condition(face, model, label));
  }

  /** Registers an identity's generator tensors (fp32) with the worker; returns its number for generate(). */
  async addIdentity(tensors: BakedTensor[]): Promise<number> {
    const id = this.nextId++;
    await this.ended(this.remote.addIdentity(id, tensors));
    return id;
  }

  forget(id: number): void {
    void this.remote.forget(id).catch(() => {});
  }

  /** One generator run; `input` moves to the worker. */
  generate(input: Float32Array<ArrayBuffer>, dims: readonly number[], id: number): Promise<Generated> {
    return this.ended(this.remote.generate(Comlink.transfer(input, [input.buffer]), dims, id));
  }

  /** Releases the sessions; the worker (and its wasm memory) goes a moment later either way. */
  close(): void {
    this.closed.reject(new Error('the idn engine was closed'));
    const { worker, remote } = this;
    const late = new Promise((r) => setTimeout(r, 1000));
    void Promise.race([remote.close(), late]).catch(() => {}).finally(() => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    });
  }

  private ended<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.closed.promise]);
  }
}
