// The main-thread side of the camera pipeline, after LiveKit's ProcessorWrapper:
// it owns the lifecycle and the choice of frame path, and knows nothing of how
// a face is swapped (that is the camera worker's and the engines'). The worker
// is one CameraWorker object, called through Comlink; it owns the engine
// choice and the identities and reports what changes.
//
//   Chromium:  camera track → MediaStreamTrackProcessor ─readable→ worker ─writable→ MediaStreamTrackGenerator
//   standard:  camera track ─transferred→ worker: MediaStreamTrackProcessor → VideoTrackGenerator ─track→ back (Safari)
//   fallback:  camera track → <video> → ImageBitmap → worker → OffscreenCanvas ← canvas.captureStream() (Firefox)
//
// The output track is created once and stays for the whole call, so choosing
// or switching an identity never renegotiates.
import * as Comlink from 'comlink';
import { defaultSwapOptions, type EngineKind, type IdnBackend, type SwapOptions } from '../engines/types.ts';
import type { PhotoProblem } from '@guise/face/photo';
import type { AssetUrls, CameraEvents, IdentityResult, LandmarkDelegate } from './messages.ts';
import type { Disclosure, VideoPipeline } from './VideoPipeline.ts';
import type { CameraWorker } from './worker/camera.worker.ts';

/** idle → initializing (the face tracker loading) → running → destroying → destroyed. */
export type PipelineState = 'idle' | 'initializing' | 'running' | 'destroying' | 'destroyed';
export type FramePath = 'chromium' | 'standard' | 'canvas';

/** A photo the worker refused, with the reason to show. */
export class IdentityRejected extends Error {
  constructor(readonly problem: PhotoProblem) { super(problem.message); }
}

/** A prepared identity inside this pipeline's worker. */
export interface PreparedIdentity { handle: number; label: string; pack?: ArrayBuffer }

function assetsFor(delegate: LandmarkDelegate): AssetUrls {
  const url = (path: string) => new URL(path, document.baseURI).href;
  return {
    visionWasm: url('mediapipe/wasm'),
    landmarkerModel: url(delegate === 'GPU' ? 'models/face_landmarker_gpu.task' : 'models/face_landmarker.task'),
    ortWasm: url('ort/'),
    idnModel: url('models/idn/'),
  };
}

export interface PipelineSettings {
  options: SwapOptions;
  /** The engine the worker starts with (mesh by default); the worker owns the choice from then on. */
  engine?: EngineKind;
  /** Frame path; the best available by default. */
  path?: FramePath;
  /** CPU by default: on machines without a GPU, WebGL is emulated and slower. */
  delegate?: LandmarkDelegate;
}

/** Whether this browser can run the camera pipeline at all (either frame path). */
export function facePipelineSupported(): boolean {
  return typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined'
    && typeof HTMLCanvasElement.prototype.transferControlToOffscreen === 'function';
}

export function insertableStreamsSupported(): boolean {
  return typeof MediaStreamTrackProcessor !== 'undefined' && typeof MediaStreamTrackGenerator !== 'undefined';
}

/** The best frame path this browser offers (the worker-side standard one is tried at start). */
function preferredPath(): FramePath {
  return insertableStreamsSupported() ? 'chromium' : 'standard';
}

/** How long use() waits for a frame showing the new identity to go out. */
const SWITCH_WAIT_MS = 2000;

type Listeners = { [K in keyof CameraEvents]: Set<CameraEvents[K]> };

export class FacePipeline implements VideoPipeline {
  output!: MediaStreamTrack;
  /** The clone of the camera track the Chromium path's processor reads. */
  private feed: MediaStreamTrack | undefined;
  path!: FramePath;
  state: PipelineState = 'idle';
  private readonly worker: Worker;
  private readonly camera: Comlink.Remote<CameraWorker>;
  private disclosureNow: Disclosure = { synthetic: false };
  private readonly disclosureListeners = new Set<(d: Disclosure) => void>();
  private readonly listeners: Listeners = {
    stats: new Set(), engine: new Set(), engineFailed: new Set(), stalled: new Set(), failed: new Set(), modelLoad: new Set(),
  };
  /** Rejects once the worker can't answer any more (destroyed, or it failed): calls still pending end with it. */
  private readonly gone = Promise.withResolvers<never>();
  /** Ends the fallback path's frame loop. */
  private readonly fallback = new AbortController();

  /**
   * Starts the worker on `input` and resolves once the output track exists
   * (at once on Chromium; after the worker answers on the standard path).
   */
  static async start(input: MediaStreamTrack, settings: PipelineSettings = { options: defaultSwapOptions }): Promise<FacePipeline> {
    const pipeline = new FacePipeline(input);
    await pipeline.open(settings);
    return pipeline;
  }

  private constructor(private readonly input: MediaStreamTrack) {
    this.worker = new Worker(new URL('./worker/camera.worker.ts', import.meta.url), { type: 'module', name: 'guise-camera' });
    this.camera = Comlink.wrap<CameraWorker>(this.worker);
    this.gone.promise.catch(() => {}); // surfaced through the calls it ends and the console
    this.worker.onerror = (e) => {
      if (this.state === 'idle' || this.state === 'initializing') this.fail(e.message || 'the camera worker failed to load');
    };
  }

  private async open({ options, engine = 'mesh', path = preferredPath(), delegate = 'CPU' }: PipelineSettings): Promise<void> {
    this.state = 'initializing';
    const events: CameraEvents = {
      stats: (s) => this.emit('stats', s),
      engine: (kind) => this.emit('engine', kind),
      engineFailed: (kind, message) => this.emit('engineFailed', kind, message),
      stalled: (message) => {
        if (message) console.warn(`guise: ${message}`);
        this.emit('stalled', message);
      },
      failed: (message) => this.fail(message),
      modelLoad: (load) => this.emit('modelLoad', load),
    };
    const { frameRate } = this.input.getSettings();
    await this.camera.init({ assets: assetsFor(delegate), delegate, engine, options, frameRate }, Comlink.proxy(events));
    void this.camera.ready().then(
      () => { if (this.state === 'initializing') this.state = 'running'; },
      (err: Error) => this.fail(err.message),
    );
    if (path === 'chromium') {
      // Keep one frame at most: a busy worker drops frames rather than queueing them.
      // A clone feeds the processor, so destroy() can end the stream at its source (see there).
      this.feed = this.input.clone();
      const processor = new MediaStreamTrackProcessor({ track: this.feed, maxBufferSize: 1 });
      const generator = new MediaStreamTrackGenerator({ kind: 'video' });
      this.output = generator;
      this.path = 'chromium';
      await this.camera.connectStreams(
        Comlink.transfer(processor.readable, [processor.readable]),
        Comlink.transfer(generator.writable, [generator.writable]),
      );
      return;
    }
    const standard = path === 'standard' ? await this.openStandard() : null;
    if (standard) {
      this.output = standard;
      this.path = 'standard';
      return;
    }
    const { track, canvas } = this.startFallback();
    this.output = track;
    this.path = 'canvas';
    await this.camera.connectCanvas(Comlink.transfer(canvas, [canvas]));
  }

  /**
   * The standard path: the worker makes the processor and a VideoTrackGenerator
   * from a transferred clone of the camera track and sends the output back.
   * Null where tracks can't be transferred or the worker lacks the generator.
   */
  private async openStandard(): Promise<MediaStreamTrack | null> {
    const track = this.input.clone();
    try {
      return await this.camera.connectTrack(Comlink.transfer(track, [track as unknown as Transferable]));
    } catch {
      track.stop();
      return null; // DataCloneError: this browser can't move tracks into workers
    }
  }

  get synthetic(): boolean { return this.disclosureNow.synthetic; }
  get identityLabel(): string | undefined { return this.disclosureNow.identityLabel; }

  onDisclosure(cb: (d: Disclosure) => void): () => void {
    this.disclosureListeners.add(cb);
    return () => { this.disclosureListeners.delete(cb); };
  }

  /**
   * What the worker reports: per-second stats, an engine that could not
   * start and the one it fell back to, frames passing through unswapped for
   * longer than a moment (a message) or swapped again (null), and a failure.
   */
  on<K extends keyof CameraEvents>(event: K, cb: CameraEvents[K]): () => void {
    const set = this.listeners[event] as Set<CameraEvents[K]>;
    set.add(cb);
    return () => { set.delete(cb); };
  }

  /** Validates a photo and builds its identity pack for `engine` in the worker. Rejects with IdentityRejected and a reason. */
  prepare(photo: Blob, label: string, engine: EngineKind): Promise<PreparedIdentity> {
    return this.identity(label, () => this.camera.prepareIdentity(photo, label, engine));
  }

  /** Loads a pack prepared earlier (from the cache) into the worker. */
  load(pack: ArrayBuffer, label: string): Promise<PreparedIdentity> {
    return this.identity(label, () => this.camera.loadIdentity(pack));
  }

  /**
   * Asks the worker for `engine` (and, for idn, a backend: 'auto' chooses,
   * absent keeps the last) on the same output track; resolves with the engine
   * the worker then wants. Asking for the one it has changes nothing.
   */
  async setEngine(engine: EngineKind, backend?: IdnBackend | 'auto'): Promise<EngineKind> {
    if (!this.live()) throw new Error('the video pipeline stopped');
    return Promise.race([this.camera.setEngine(engine, backend), this.gone.promise]);
  }

  /**
   * From the next frame on, shows `identity` (or the real face for null).
   * Never stalls or renegotiates. Resolves once a frame showing it has been
   * sent (at most SWITCH_WAIT_MS later: no frames may be flowing). The
   * disclosure turns on at once and off only then: no swapped frame goes out undisclosed.
   */
  async use(identity: PreparedIdentity | null): Promise<void> {
    const next: Disclosure = identity ? { synthetic: true, identityLabel: identity.label } : { synthetic: false };
    if (identity) this.disclose(next);
    if (this.live()) {
      const sent = this.camera.useIdentity(identity?.handle ?? null);
      await Promise.race([sent, this.gone.promise, new Promise((r) => setTimeout(r, SWITCH_WAIT_MS))]).catch(() => {});
    }
    if (!identity) this.disclose(next);
  }

  private disclose(d: Disclosure): void {
    this.disclosureNow = d;
    for (const cb of this.disclosureListeners) cb(d);
  }

  setOptions(options: SwapOptions): void {
    if (this.live()) void this.camera.setOptions(options);
  }

  /** Stops the worker and the generated track. The camera track belongs to the caller. */
  destroy(): void {
    switch (this.state) {
      case 'destroying':
      case 'destroyed':
        return;
      case 'idle':
      case 'initializing':
      case 'running':
        break;
    }
    this.state = 'destroying';
    this.gone.reject(new Error('the video pipeline stopped'));
    for (const set of Object.values(this.listeners)) set.clear();
    this.disclosureListeners.clear();
    // Let the worker close its frames, engines and tracker (told before its output ends
    // under it), then make sure it is gone.
    const worker = this.worker;
    // The feed stops first, so the worker's read ends with the stream: cancelling
    // a processor whose track is live can leave a frame it queued unclosed.
    this.feed?.stop();
    const released = this.camera.destroy();
    this.fallback.abort();
    this.output?.stop();
    const late = new Promise((r) => setTimeout(r, 1000));
    void Promise.race([released, late]).catch(() => {}).finally(() => {
      worker.terminate();
      this.state = 'destroyed';
    });
  }

  private live(): boolean {
    return this.state !== 'destroying' && this.state !== 'destroyed';
  }

  /** An identity call, ended by destroy() or a failed worker if it has not answered by then. */
  private async identity(label: string, call: () => Promise<IdentityResult>): Promise<PreparedIdentity> {
    if (!this.live()) throw new Error('the video pipeline stopped');
    const result = await Promise.race([call(), this.gone.promise]);
    if (!result.ok) throw new IdentityRejected(result.problem);
    return { handle: result.handle, label, ...(result.pack ? { pack: result.pack } : {}) };
  }

  private emit<K extends keyof CameraEvents>(event: K, ...args: Parameters<CameraEvents[K]>): void {
    for (const cb of this.listeners[event]) (cb as (...a: Parameters<CameraEvents[K]>) => void)(...args);
  }

  /** The worker can't go on (its face tracker or its frame loop failed): said on the console, and pending calls end. */
  private fail(message: string): void {
    if (!this.live()) return; // a loop that ends as the pipeline is destroyed has not failed
    console.error(`guise: ${message}`);
    this.gone.reject(new Error(message));
    this.emit('failed', message);
  }

  /** Browsers without insertable streams at all (Firefox): frames cross as ImageBitmaps; a canvas is captured. */
  private startFallback() {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([this.input]);
    void video.play().catch(() => {});
    const canvas = document.createElement('canvas');
    const { width = 640, height = 480, frameRate = 30 } = this.input.getSettings();
    canvas.width = width;
    canvas.height = height;
    const track = canvas.captureStream(frameRate).getVideoTracks()[0]!;
    const { signal } = this.fallback;
    signal.addEventListener('abort', () => { video.srcObject = null; }, { once: true });
    let busy = false;
    const onFrame = async () => {
      if (signal.aborted) return;
      // Drop, never queue: only one frame is ever in flight.
      if (!busy && video.videoWidth > 0) {
        busy = true;
        try {
          const bitmap = await createImageBitmap(video);
          if (signal.aborted) bitmap.close();
          else void this.camera.drawFrame(Comlink.transfer(bitmap, [bitmap]), performance.now()).catch(() => {}).finally(() => { busy = false; });
        } catch { busy = false; }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    return { track, canvas: canvas.transferControlToOffscreen() };
  }
}
