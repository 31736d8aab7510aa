// The main-thread side of the face swap, after LiveKit's ProcessorWrapper: it
// owns the lifecycle and the choice of frame path, and knows nothing of how a
// face is swapped (that is the worker's and the engines').
//
//   Chromium:  camera track → MediaStreamTrackProcessor ─readable→ worker ─writable→ MediaStreamTrackGenerator
//   standard:  camera track ─transferred→ worker: MediaStreamTrackProcessor → VideoTrackGenerator ─track→ back (Safari)
//   fallback:  camera track → <video> → ImageBitmap → worker → OffscreenCanvas ← canvas.captureStream() (Firefox)
//
// The output track is created once and stays for the whole call, so choosing
// or switching an identity never renegotiates.
import { defaultSwapOptions, type EngineKind, type SwapOptions } from '../engines/types.ts';
import type { PhotoProblem } from '@guise/face/photo';
import type { AssetUrls, FromWorker, IdnBackend, LandmarkDelegate, PipelineStats, ToWorker } from './messages.ts';
import type { Disclosure, VideoPipeline } from './VideoPipeline.ts';

export type PipelineState = 'initializing' | 'running' | 'destroyed';
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
  engine?: EngineKind;
  /** Frame path; the best available by default. */
  path?: FramePath;
  /** CPU by default: on machines without a GPU, WebGL is emulated and slower. */
  delegate?: LandmarkDelegate;
}

/** Whether this browser can run the swap at all (either frame path). */
export function swapSupported(): boolean {
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

export class SwapPipeline implements VideoPipeline {
  output!: MediaStreamTrack;
  path!: FramePath;
  state: PipelineState = 'initializing';
  private readonly worker: Worker;
  private disclosureNow: Disclosure = { synthetic: false };
  private readonly disclosureListeners = new Set<(d: Disclosure) => void>();
  private readonly statsListeners = new Set<(s: PipelineStats) => void>();
  private readonly pending = new Map<number, { resolve: (p: PreparedIdentity) => void; reject: (e: Error) => void; label: string }>();
  private nextHandle = 1;
  private engineNow: EngineKind = 'mesh';
  private stopFallback: (() => void) | undefined;
  private readonly ready: Promise<void>;

  /**
   * Starts the worker on `input` and resolves once the output track exists
   * (at once on Chromium; after the worker answers on the standard path).
   */
  static async start(input: MediaStreamTrack, settings: PipelineSettings = { options: defaultSwapOptions }): Promise<SwapPipeline> {
    const pipeline = new SwapPipeline(input);
    pipeline.engineNow = settings.engine ?? 'mesh';
    await pipeline.open(settings.options, settings.path ?? preferredPath(), settings.delegate ?? 'CPU', settings.engine ?? 'mesh');
    return pipeline;
  }

  private constructor(private readonly input: MediaStreamTrack) {
    this.worker = new Worker(new URL('./worker/swap.worker.ts', import.meta.url), { type: 'module', name: 'guise-swap' });
    let onReady!: () => void;
    let onFatal!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { onReady = res; onFatal = rej; });
    this.ready.catch(() => {}); // surfaced through prepare() and the console
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.onWorkerMessage(e.data, onReady, onFatal);
    this.worker.onerror = (e) => onFatal(new Error(e.message || 'the swap worker failed to load'));
  }

  private async open(options: SwapOptions, path: FramePath, delegate: LandmarkDelegate, engine: EngineKind): Promise<void> {
    const start = { type: 'start', assets: assetsFor(delegate), delegate, engine, options } as const;
    if (path === 'chromium') {
      // Keep one frame at most: a busy worker drops frames rather than queueing them.
      const processor = new MediaStreamTrackProcessor({ track: this.input, maxBufferSize: 1 });
      const generator = new MediaStreamTrackGenerator({ kind: 'video' });
      this.output = generator;
      this.post({ ...start, readable: processor.readable, writable: generator.writable }, [processor.readable, generator.writable]);
    } else if (path === 'standard' && (await this.openStandard(start))) {
      path = 'standard';
    } else {
      const { track, canvas, stop } = this.startFallback();
      this.output = track;
      this.stopFallback = stop;
      this.post({ ...start, canvas }, [canvas]);
      path = 'canvas';
    }
    this.path = path;
  }

  /**
   * The standard path: the worker makes the processor and a VideoTrackGenerator
   * from a transferred clone of the camera track and sends the output back.
   * False where tracks can't be transferred or the worker lacks the generator.
   */
  private async openStandard(start: Omit<Extract<ToWorker, { type: 'start' }>, 'track'>): Promise<boolean> {
    const track = this.input.clone();
    try {
      this.post({ ...start, track }, [track as unknown as Transferable]);
    } catch {
      track.stop();
      return false; // DataCloneError: this browser can't move tracks into workers
    }
    const output = await new Promise<MediaStreamTrack | null>((resolve) => {
      const onMessage = (e: MessageEvent<FromWorker>) => {
        if (e.data.type !== 'output') return;
        this.worker.removeEventListener('message', onMessage);
        resolve(e.data.track);
      };
      this.worker.addEventListener('message', onMessage);
    });
    if (!output) return false;
    this.output = output;
    return true;
  }

  /** The engine this pipeline's worker was last asked to use. */
  get engine(): EngineKind { return this.engineNow; }

  get synthetic(): boolean { return this.disclosureNow.synthetic; }
  get identityLabel(): string | undefined { return this.disclosureNow.identityLabel; }
  get disclosure(): Disclosure { return this.disclosureNow; }

  onDisclosure(cb: (d: Disclosure) => void): () => void {
    this.disclosureListeners.add(cb);
    return () => { this.disclosureListeners.delete(cb); };
  }

  onStats(cb: (s: PipelineStats) => void): () => void {
    this.statsListeners.add(cb);
    return () => { this.statsListeners.delete(cb); };
  }

  /** Validates a photo and builds its identity pack for `engine` in the worker. Rejects with IdentityRejected and a reason. */
  prepare(photo: Blob, label: string, engine: EngineKind): Promise<PreparedIdentity> {
    return this.request(label, (handle) => ({ type: 'prepareIdentity', handle, label, photo, engine }));
  }

  /** Switches the swap engine in the worker (and, for idn, its backend), on the same output track. */
  setEngine(engine: EngineKind, backend?: IdnBackend | 'auto'): void {
    this.engineNow = engine;
    this.post({ type: 'setEngine', engine, ...(backend ? { backend } : {}) });
  }

  /** The worker can't draw the chosen identity and sends the camera on unswapped (a message), or draws it again (null). */
  onSwapProblem(cb: (message: string | null) => void): () => void {
    const listener = (e: MessageEvent<FromWorker>) => { if (e.data.type === 'swapProblem') cb(e.data.message); };
    this.worker.addEventListener('message', listener);
    return () => this.worker.removeEventListener('message', listener);
  }

  onEngineFailed(cb: (engine: EngineKind, message: string) => void): () => void {
    const listener = (e: MessageEvent<FromWorker>) => { if (e.data.type === 'engineFailed') cb(e.data.engine, e.data.message); };
    this.worker.addEventListener('message', listener);
    return () => this.worker.removeEventListener('message', listener);
  }

  /** Loads a pack prepared earlier (from the cache) into the worker. */
  load(pack: ArrayBuffer, label: string): Promise<PreparedIdentity> {
    return this.request(label, (handle) => ({ type: 'loadIdentity', handle, pack }));
  }

  /** From the next frame on, shows `identity` (or the real face for null). Never stalls or renegotiates. */
  use(identity: PreparedIdentity | null): void {
    this.post({ type: 'useIdentity', handle: identity?.handle ?? null });
    this.disclosureNow = identity ? { synthetic: true, identityLabel: identity.label } : { synthetic: false };
    for (const cb of this.disclosureListeners) cb(this.disclosureNow);
  }

  setOptions(options: SwapOptions): void {
    this.post({ type: 'setOptions', options });
  }

  /** Stops the worker and the generated track. The camera track belongs to the caller. */
  destroy(): void {
    if (this.state === 'destroyed') return;
    this.state = 'destroyed';
    this.post({ type: 'stop' });
    this.stopFallback?.();
    this.output.stop();
    for (const p of this.pending.values()) p.reject(new Error('the video pipeline stopped'));
    this.pending.clear();
    // Let the worker close its frames and the landmarker; then make sure it is gone.
    const worker = this.worker;
    const kill = setTimeout(() => worker.terminate(), 1000);
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (e.data.type === 'stopped') { clearTimeout(kill); worker.terminate(); }
    };
  }

  private request(label: string, make: (handle: number) => ToWorker): Promise<PreparedIdentity> {
    if (this.state === 'destroyed') return Promise.reject(new Error('the video pipeline stopped'));
    const handle = this.nextHandle++;
    return this.ready.then(() => new Promise<PreparedIdentity>((resolve, reject) => {
      this.pending.set(handle, { resolve, reject, label });
      this.post(make(handle));
    }));
  }

  private onWorkerMessage(msg: FromWorker, onReady: () => void, onFatal: (e: Error) => void) {
    switch (msg.type) {
      case 'ready':
        this.state = 'running';
        onReady();
        break;
      case 'identityReady':
      case 'identityFailed': {
        const p = this.pending.get(msg.handle);
        if (!p) break;
        this.pending.delete(msg.handle);
        if (msg.type === 'identityReady') p.resolve({ handle: msg.handle, label: p.label, pack: msg.pack });
        else p.reject(new IdentityRejected(msg.problem));
        break;
      }
      case 'stats':
        for (const cb of this.statsListeners) cb(msg.stats);
        break;
      case 'fatal':
        console.error(`guise: ${msg.message}`);
        onFatal(new Error(msg.message));
        for (const p of this.pending.values()) p.reject(new Error(msg.message));
        this.pending.clear();
        break;
      case 'swapProblem':
        if (msg.message) console.warn(`guise: ${msg.message}`);
        break;
      case 'frameDone':
      case 'engineFailed':
      case 'output':
      case 'stopped':
        break;
    }
  }

  private post(msg: ToWorker, transfer: Transferable[] = []) {
    this.worker.postMessage(msg, transfer);
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
    let busy = false;
    let stopped = false;
    const frameDone = (e: MessageEvent<FromWorker>) => { if (e.data.type === 'frameDone') busy = false; };
    this.worker.addEventListener('message', frameDone);
    const onFrame = async () => {
      if (stopped) return;
      // Drop, never queue: only one frame is ever in flight.
      if (!busy && video.videoWidth > 0) {
        busy = true;
        try {
          const bitmap = await createImageBitmap(video);
          if (stopped) bitmap.close();
          else this.post({ type: 'frame', bitmap, timestamp: performance.now() }, [bitmap]);
        } catch { busy = false; }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    return {
      track,
      canvas: canvas.transferControlToOffscreen(),
      stop: () => {
        stopped = true;
        this.worker.removeEventListener('message', frameDone);
        video.srcObject = null;
      },
    };
  }
}
