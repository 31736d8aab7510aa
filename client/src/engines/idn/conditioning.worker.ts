/// <reference lib="webworker" />
// The idn engine's conditioning (identity.onnx + conditioner.onnx: a photo's
// face → its identity pack), in a worker of its own with an onnxruntime-web
// instance of its own. In the camera worker these runs, and creating their
// sessions, held its one thread for as long as they took (wasm runs
// synchronously): frames stopped while an identity was prepared. Here they
// share the CPU instead, and the old identity keeps being drawn meanwhile.
// The camera worker's IdnSessions starts it and calls it through Comlink.
import * as Comlink from 'comlink';
import { AwaitQueue } from 'awaitqueue';
import * as ort from 'onnxruntime-web';
import { conditionIdentity, type AlignedSource, type ConditioningSessions } from '@guise/face/idn/conditioning';
import type { IdnModel } from '@guise/face/idn/manifest';
import type { IdentityPack } from '@guise/face/pack';

export class ConditioningWorker {
  /** One run at a time: onnxruntime-web refuses a run while another is in flight (two photos can be prepared at once). */
  private readonly queue = new AwaitQueue();
  private sessions: Promise<ConditioningSessions> | undefined;

  /**
   * Creates the two sessions from their files' bytes. One thread: the camera
   * worker's frames need the other core more than a once-per-identity run does.
   */
  load(ortWasm: string, identity: Uint8Array, conditioner: Uint8Array): Promise<void> {
    if (this.sessions) throw new Error('the conditioning sessions are loaded already');
    ort.env.wasm.wasmPaths = ortWasm;
    ort.env.wasm.numThreads = 1;
    const options: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    this.sessions = this.queue.push(async () => ({
      identity: await ort.InferenceSession.create(identity, options),
      conditioner: await ort.InferenceSession.create(conditioner, options),
    }));
    return this.sessions.then(() => {});
  }

  async condition(face: AlignedSource, model: IdnModel, label: string): Promise<IdentityPack> {
    if (!this.sessions) throw new Error('the conditioning sessions are not loaded');
    const sessions = await this.sessions;
    const pack = await this.queue.push(() => conditionIdentity(ort, sessions, face, model, { label }));
    // Each buffer once: two tensors may be views of one.
    return Comlink.transfer(pack, [...new Set(pack.tensors.map((t) => t.data.buffer as ArrayBuffer))]);
  }

  async close(): Promise<void> {
    const sessions = await this.sessions?.catch(() => undefined);
    if (sessions) await this.queue.push(() => Promise.all([sessions.identity.release(), sessions.conditioner.release()]));
  }
}

Comlink.expose(new ConditioningWorker());
