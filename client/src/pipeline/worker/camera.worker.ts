/// <reference lib="webworker" />
// The camera worker: camera frames in, swapped frames out, off the main thread.
// One CameraWorker owns the camera loop, the face tracker, the engines and the
// identities; the main thread's FacePipeline calls it through Comlink.
// Per frame: landmarks → smoothing → engine (which pastes back) → output.
// Under load, landmarks run on every second or third frame only (the
// LandmarkCadence), and the frames between use landmarks predicted from the
// smoothed track: the landmark rate drops before the output rate.
// Frames are never queued: the processor upstream keeps only the newest one
// while this worker is busy, and every VideoFrame is closed exactly once.
import * as Comlink from 'comlink';
import { IdnEngine } from '../../engines/idn/IdnEngine.ts';
import { MeshEngine } from '../../engines/mesh/MeshEngine.ts';
import type { Engine, EngineKind, IdnBackend, SwapOptions } from '../../engines/types.ts';
import { FaceTracker, faceBox, type FaceGeometry, type LandmarkDelegate } from '@guise/face/landmarker';
import { PointSmoother } from '@guise/face/oneEuro';
import { decodePack, encodePack, type IdentityPack } from '@guise/face/pack';
import { checkFaces, checkPhotoDimensions, undecodable, type PhotoProblem } from '@guise/face/photo';
import { EngineSlot } from '../engineSlot.ts';
import type { AssetUrls, CameraEvents, CameraSettings, IdentityResult, ModelLoad } from '../messages.ts';
import { StatsWindow } from '../stats.ts';
import { LandmarkCadence } from './landmarkCadence.ts';
import { MarkPainter } from './markPainter.ts';
import type { PhotoWorker } from './photo.worker.ts';
import { ENGINE_DEADLINE_MS, Overdue, StallWatch, withDeadline, type Blockage } from '../stallWatch.ts';

declare const self: DedicatedWorkerGlobalScope;

/** How long destroy() lets a frame stream end at its source before cancelling it. */
const FEED_END_WAIT_MS = 300;

/** The engines, by kind; the neural one loads its models as it starts. */
function makeEngine(kind: EngineKind, assets: AssetUrls, backend: IdnBackend | undefined, onLoad: (load: ModelLoad) => void): Promise<Engine> {
  return kind === 'mesh' ? MeshEngine.create() : IdnEngine.create(assets, backend, onLoad);
}

/** Why frames pass through while an engine call is past its deadline (built only then, not every frame). */
function overdue(kind: EngineKind): Blockage {
  return { reason: `the ${kind} engine has not finished a frame in ${ENGINE_DEADLINE_MS / 1000} s`, urgent: true };
}

function startTracker(assets: AssetUrls, delegate: LandmarkDelegate): Promise<FaceTracker> {
  return FaceTracker.create({ wasm: assets.visionWasm, model: assets.landmarkerModel, delegate });
}

/** idle → initializing (the face tracker loading; frames pass through) → running → destroying → destroyed. */
export type Lifecycle = 'idle' | 'initializing' | 'running' | 'destroying' | 'destroyed';

class PhotoRejected extends Error {
  constructor(readonly problem: PhotoProblem) { super(problem.message); }
}

/** The main thread's listener, as this side sees it: each call is a message, not awaited. */
type Events = Comlink.Remote<CameraEvents & Comlink.ProxyMarked>;

export class CameraWorker {
  private lifecycle: Lifecycle = 'idle';
  private assets!: AssetUrls;
  private options!: SwapOptions;
  private events: Events | undefined;
  /** Settles once the face tracker is up, or could not start. */
  private readonly trackerUp = Promise.withResolvers<FaceTracker>();
  /** The tracker once up: frames check it without waiting. */
  private tracker: FaceTracker | undefined;
  private delegate: LandmarkDelegate = 'CPU';
  /** Identity photos are analysed in a worker of its own, started on the first photo. */
  private photos: { worker: Worker; remote: Comlink.Remote<PhotoWorker>; started: Promise<void> } | undefined;
  /** Engines by kind, started on first use; the latest request wins. */
  private readonly engines = new EngineSlot<Engine>((kind, backend) => makeEngine(kind, this.assets, backend, (load) => this.emit('modelLoad', load)));
  /** Prepared identities by the handle their prepare or load returned. */
  private readonly identities = new Map<number, IdentityPack>();
  private nextHandle = 1;
  private active: IdentityPack | null = null;
  private readonly smoother = new PointSmoother(478, 3);
  /** The frame size of the smoother's current track; null when it has none (nothing to predict from). */
  private trackSize: { width: number; height: number } | null = null;
  private readonly cadence = new LandmarkCadence();
  /** Draws "synthetic" into swapped frames, so the disclosure goes wherever the video goes. */
  private readonly mark = new MarkPainter();
  private readonly stats = new StatsWindow(performance.now());
  /** Says so when frames pass through for longer than a moment while an identity is chosen. */
  private readonly watch = new StallWatch();
  /** An engine call past its deadline that has not come back: frames pass through until it does. */
  private stuck: Promise<unknown> | undefined;
  /** Fallback path only: the canvas the main thread captures. */
  private output: OffscreenCanvasRenderingContext2D | undefined;
  /** useIdentity calls so far, and those waiting for a frame begun after theirs to be sent. */
  private identityChanges = 0;
  /** VideoFrames this worker holds: read or made, and not yet closed or handed to the generator (its stats say so). */
  private framesHeld = 0;
  private switches: { after: number; sent: () => void }[] = [];
  /** Aborted by destroy(): frame loops end, frames still arriving are closed unused. */
  private readonly stop = new AbortController();
  /** The running stream loops, which destroy() waits for. */
  private readonly loops: Promise<void>[] = [];

  constructor() {
    this.trackerUp.promise.catch(() => {}); // surfaced through ready() and the calls that need it
  }

  /**
   * Starts loading the face tracker; until it is up, frames pass through.
   * `engine` is chosen now and started once the tracker is up.
   */
  init(settings: CameraSettings, events: Events): void {
    if (this.lifecycle !== 'idle') throw new Error(`the camera worker is ${this.lifecycle}`);
    this.lifecycle = 'initializing';
    this.assets = settings.assets;
    this.options = settings.options;
    this.events = events;
    this.stats.setFrameRate(settings.frameRate);
    this.cadence.setFrameRate(settings.frameRate);
    this.engines.choose(settings.engine);
    this.delegate = settings.delegate;
    void this.startTracking(settings.delegate);
  }

  /** Resolves once the face tracker is up; rejects where it could not start. */
  async ready(): Promise<void> {
    await this.trackerUp.promise;
  }

  /** The fast path (Chromium's insertable streams): camera frames from `readable`, swapped ones into `writable`. */
  connectStreams(readable: ReadableStream<VideoFrame>, writable: WritableStream<VideoFrame>): void {
    this.loops.push(this.pump(readable, writable));
  }

  /**
   * The standard path: processor and VideoTrackGenerator both live here, on
   * `camera` (a transferred clone). Returns the generated track, or null where
   * this worker has no VideoTrackGenerator.
   */
  connectTrack(camera: MediaStreamTrack): MediaStreamTrack | null {
    const Generator = (self as unknown as { VideoTrackGenerator?: new () => { track: MediaStreamTrack; writable: WritableStream<VideoFrame> } }).VideoTrackGenerator;
    if (!Generator || typeof MediaStreamTrackProcessor === 'undefined') {
      camera.stop();
      return null;
    }
    const generator = new Generator();
    const processor = new MediaStreamTrackProcessor({ track: camera, maxBufferSize: 1 });
    this.stop.signal.addEventListener('abort', () => camera.stop(), { once: true }); // ends the stream at its source (see pump)
    this.loops.push(this.pump(processor.readable, generator.writable).finally(() => camera.stop()));
    return Comlink.transfer(generator.track, [generator.track as unknown as Transferable]);
  }

  /** The fallback path: frames arrive through drawFrame and are drawn into `canvas`, which the main thread captures. */
  connectCanvas(canvas: OffscreenCanvas): void {
    this.output = canvas.getContext('2d')!;
  }

  /** Fallback path: draws one camera frame (swapped, or as it is) into the canvas; resolves when the next may come. */
  async drawFrame(bitmap: ImageBitmap, timestampMs: number): Promise<void> {
    try {
      if (!this.output || this.stop.signal.aborted) return;
      this.stats.frameIn(timestampMs * 1000);
      const begun = this.identityChanges;
      const result = await this.transform(bitmap, timestampMs).catch(() => null);
      const { canvas } = this.output;
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      this.output.drawImage(result?.canvas ?? bitmap, 0, 0);
      if (this.active && this.options.disclosureMark) this.mark.drawMark(this.output, canvas.width, canvas.height);
      this.frameSent(begun);
      this.swapDone(result);
      this.stats.frameOut(result?.stages ?? null, result !== null);
      this.report();
    } finally {
      bitmap.close();
    }
  }

  /** Validates a photo and builds its identity pack for `kind`: a handle and the pack to cache, or why the photo is refused. */
  async prepareIdentity(photo: Blob, label: string, kind: EngineKind): Promise<IdentityResult> {
    await this.trackerUp.promise;
    let bitmap: ImageBitmap | undefined;
    try {
      const maker = await this.engines.get(kind);
      try {
        bitmap = await createImageBitmap(photo);
      } catch {
        throw new PhotoRejected(undecodable());
      }
      const sizeProblem = checkPhotoDimensions(bitmap.width, bitmap.height);
      if (sizeProblem) throw new PhotoRejected(sizeProblem);
      const faces = await this.photoFaces(bitmap);
      const faceProblem = checkFaces(faces.map(faceBox), bitmap.width, bitmap.height);
      if (faceProblem) throw new PhotoRejected(faceProblem);
      const pack = await maker.prepareIdentity(bitmap, faces[0]!, label);
      const bytes = encodePack(pack).buffer as ArrayBuffer;
      return Comlink.transfer({ ok: true, handle: this.keep(pack), pack: bytes }, [bytes]);
    } catch (err) {
      const problem: PhotoProblem = err instanceof PhotoRejected
        ? err.problem
        : { code: 'undecodable', message: `Could not use this photo: ${(err as Error).message}` };
      return { ok: false, problem };
    } finally {
      bitmap?.close();
    }
  }

  /**
   * A cached pack, checked against the engine that will draw it: a pack made by
   * another model (the neural model changed since it was cached) is refused
   * here, so the main thread prepares the identity again, rather than failing
   * on the first frame and stopping the video.
   */
  async loadIdentity(bytes: ArrayBuffer): Promise<IdentityResult> {
    // Engines start once the face tracker is up, whatever asks for them.
    await this.trackerUp.promise;
    let pack: IdentityPack;
    try {
      pack = decodePack(bytes);
    } catch (err) {
      return { ok: false, problem: { code: 'undecodable', message: `The saved identity is damaged (${(err as Error).message}); choose the photo again.` } };
    }
    try {
      if (pack.engine !== 'mesh' && pack.engine !== 'idn') throw new Error(`it was made for an unknown engine "${pack.engine.slice(0, 64)}"`);
      const problem = (await this.engines.get(pack.engine)).packProblem?.(pack);
      if (problem) throw new Error(problem);
    } catch (err) {
      return { ok: false, problem: { code: 'undecodable', message: `The saved identity does not fit the swap model (${(err as Error).message}); it is prepared again.` } };
    }
    return { ok: true, handle: this.keep(pack) };
  }

  /** Draws the identity prepared under `handle` from the next frame on; null shows the original face. */
  /**
   * Draws `handle`'s identity (null: the person's own face) from the next
   * frame on; resolves once a frame begun after the switch has been sent, so
   * the caller can say "selected" when that is what others see.
   */
  useIdentity(handle: number | null): Promise<void> {
    const next = handle === null ? null : this.identities.get(handle) ?? null;
    if (this.active !== next) this.loseTrack();
    this.active = next;
    const sent = Promise.withResolvers<void>();
    this.switches.push({ after: ++this.identityChanges, sent: sent.resolve });
    return sent.promise;
  }

  setOptions(options: SwapOptions): void {
    this.options = options;
  }

  /**
   * Asks for the engine for the next frames (for idn, its backend too: 'auto'
   * chooses, absent keeps the last) and returns the engine the worker now
   * wants; asking for that one again changes nothing. Identities must be
   * prepared for it: packs are per engine. One that can't start is reported,
   * and the worker falls back to the mesh engine (reported through `engine`).
   */
  setEngine(kind: EngineKind, backend?: IdnBackend | 'auto'): EngineKind {
    if (!this.engines.wants(kind, backend)) {
      this.engines.want(kind, backend).catch((err: Error) => this.engineFailed(kind, err));
    }
    return this.engines.wanted;
  }

  /** Stops the frame loops and releases the tracker, the engines, the identities and the main thread's listener. */
  async destroy(): Promise<void> {
    switch (this.lifecycle) {
      case 'destroying':
      case 'destroyed':
        return;
      case 'idle':
        this.lifecycle = 'destroyed';
        return;
      case 'initializing':
      case 'running':
        break;
    }
    this.lifecycle = 'destroying';
    this.stop.abort();
    this.trackerUp.reject(new Error('the video pipeline stopped'));
    await Promise.allSettled(this.loops);
    this.frameSent(Infinity); // no frame will go out: nothing waits for one
    this.identities.clear();
    this.active = null;
    // Releases each engine's GPU resources and ONNX sessions.
    this.engines.disposeAll();
    // A tracker still loading is closed as it arrives (startTracking).
    this.tracker?.close();
    this.tracker = undefined;
    this.photos?.worker.terminate();
    this.photos = undefined;
    this.events?.[Comlink.releaseProxy]();
    this.events = undefined;
    this.lifecycle = 'destroyed';
  }

  private async startTracking(delegate: LandmarkDelegate): Promise<void> {
    let tracker: FaceTracker;
    try {
      tracker = await startTracker(this.assets, delegate);
    } catch (err) {
      this.trackerUp.reject(new Error(`the face tracker could not start: ${(err as Error).message}`));
      return;
    }
    if (this.lifecycle !== 'initializing') {
      tracker.close();
      return;
    }
    this.tracker = tracker;
    this.lifecycle = 'running';
    this.trackerUp.resolve(tracker);
    void this.engines.startWanted().catch((err: Error) => this.engineFailed(this.engines.wanted, err));
  }

  private engineFailed(kind: EngineKind, err: Error): void {
    this.emit('engineFailed', kind, err.message);
    // Still wanted: carry on with the mesh engine, which has no model to load.
    if (kind !== 'mesh' && this.engines.wanted === kind) this.emit('engine', this.setEngine('mesh'));
  }

  private close(frame: VideoFrame): void {
    frame.close();
    this.framesHeld--;
  }

  private keep(pack: IdentityPack): number {
    const handle = this.nextHandle++;
    this.identities.set(handle, pack);
    return handle;
  }

  /** Insertable streams: read, process and write one frame at a time, until the stream ends or destroy(). */
  private async pump(readable: ReadableStream<VideoFrame>, writable: WritableStream<VideoFrame>): Promise<void> {
    const reader = readable.getReader();
    const writer = writable.getWriter();
    const { signal } = this.stop;
    // A read waiting for the next camera frame ends when the feed stops (the
    // main thread stops it before destroy()); a cancel is the fallback, since
    // cancelling a processor whose track is live can leave a frame unclosed.
    let fallback: ReturnType<typeof setTimeout> | undefined;
    const cancel = () => { fallback = setTimeout(() => void reader.cancel().catch(() => {}), FEED_END_WAIT_MS); };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      while (!signal.aborted) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        this.framesHeld++;
        if (signal.aborted) { this.close(frame); break; }
        const begun = this.identityChanges;
        const out = await this.processFrame(frame);
        if (signal.aborted) { this.close(out); break; }
        // The sink takes ownership of what is written: it closes it. A write that fails leaves it here.
        await writer.write(out).catch((err: unknown) => { out.close(); throw err; }).finally(() => { this.framesHeld--; });
        this.frameSent(begun);
      }
    } catch (err) {
      if (!signal.aborted) this.emit('failed', `video processing stopped: ${(err as Error).message}`);
    } finally {
      signal.removeEventListener('abort', cancel);
      clearTimeout(fallback);
      await reader.cancel().catch(() => {});
      await writer.close().catch(() => {});
    }
  }

  /** Returns the frame to send: the input itself (passthrough) or a new swapped frame, in which case the input is closed. */
  private async processFrame(frame: VideoFrame): Promise<VideoFrame> {
    this.stats.frameIn(frame.timestamp);
    let result: Awaited<ReturnType<CameraWorker['transform']>>;
    try {
      result = await this.transform(frame, frame.timestamp / 1000);
    } catch (err) {
      this.close(frame);
      throw err;
    }
    let out = frame;
    if (result) {
      const t = performance.now();
      const pixels = this.options.disclosureMark ? this.mark.paint(result.canvas, result.canvas.width, result.canvas.height) : result.canvas;
      out = new VideoFrame(pixels, { timestamp: frame.timestamp, ...(frame.duration ? { duration: frame.duration } : {}) });
      this.framesHeld++;
      this.close(frame);
      result.stages.pasteMs += performance.now() - t;
    } else if (this.active && this.options.disclosureMark) {
      // An identity is chosen (the badge says synthetic) but this frame passed
      // through (no face in view, say): marked all the same, so the mark does
      // not flicker and never says less than the badge.
      out = new VideoFrame(this.mark.paint(frame, frame.displayWidth, frame.displayHeight), { timestamp: frame.timestamp, ...(frame.duration ? { duration: frame.duration } : {}) });
      this.framesHeld++;
      this.close(frame);
    }
    this.swapDone(result);
    this.stats.frameOut(result?.stages ?? null, result !== null);
    this.report();
    return out;
  }

  /**
   * One frame with the chosen identity swapped in, or null to pass it through:
   * no identity chosen, the models not loaded yet, no face in view (never a
   * half-swapped frame), or the engine failing. Never throws, never waits for
   * good: whatever keeps a chosen identity from being drawn goes to the watch,
   * which reports it if it lasts.
   */
  private async transform(frame: VideoFrame | ImageBitmap, timestampMs: number) {
    const pack = this.active;
    if (!pack) return this.passThrough(null);
    const engine = this.engines.current; // the same one for the whole frame, whatever a setEngine does meanwhile
    const tracker = this.tracker;
    if (!tracker) return this.passThrough({ reason: 'the face tracker has not started' });
    if (!engine) return this.passThrough({ reason: `the ${this.engines.wanted} engine has not started` });
    // A pack made by another engine waits for its re-preparation (an engine switch).
    if (pack.engine !== engine.kind) {
      return this.passThrough({ reason: `the identity was prepared for the ${pack.engine} engine, but the ${engine.kind} engine is running` });
    }
    if (this.stuck) return this.passThrough(overdue(engine.kind));
    let call: OffscreenCanvas | Promise<OffscreenCanvas> | undefined;
    try {
      const t0 = performance.now();
      // Under load, landmarks run on some frames only (LandmarkCadence); the rest are predicted.
      const tracked = !this.trackSize || this.cadence.trackNow();
      let smoothed: FaceGeometry;
      if (tracked) {
        const face = tracker.track(frame, timestampMs);
        if (!face) {
          this.loseTrack(); // the next face may be someone else, somewhere else
          return this.passThrough(null);
        }
        this.trackSize = { width: face.width, height: face.height };
        smoothed = { ...face, points: this.smoother.apply(face.points, timestampMs / 1000) };
      } else {
        smoothed = { ...this.trackSize!, points: this.smoother.predict(timestampMs / 1000) };
      }
      const landmarksMs = performance.now() - t0;
      call = engine.swap(frame, smoothed, pack, this.options);
      const canvas = await withDeadline(call, ENGINE_DEADLINE_MS, `the ${engine.kind} engine`);
      this.passThrough(null);
      return { canvas, tracked, stages: { landmarksMs, ...engine.timings } };
    } catch (err) {
      if (err instanceof Overdue) {
        // The call carries on: no other is started until it is back (say, an ONNX run that never ends).
        const late = Promise.resolve(call);
        this.stuck = late;
        const back = () => { if (this.stuck === late) this.stuck = undefined; };
        late.then(back, back);
        return this.passThrough(overdue(engine.kind));
      }
      return this.passThrough({ reason: `the ${engine.kind} engine failed on a frame: ${(err as Error).message}`, urgent: true });
    }
  }

  /** Every face in `photo`, found in the photo worker (the camera's tracker keeps tracking meanwhile). */
  private async photoFaces(photo: ImageBitmap): Promise<FaceGeometry[]> {
    if (!this.photos) {
      const worker = new Worker(new URL('./photo.worker.ts', import.meta.url), { type: 'module', name: 'guise-photo' });
      const remote = Comlink.wrap<PhotoWorker>(worker);
      const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => {
        reject(new Error(`the photo worker failed to start: ${e.message || 'its script did not load'}`));
      }, { once: true }));
      const started = Promise.race([failed, remote.start(this.assets.visionWasm, this.assets.landmarkerModel, this.delegate)]);
      this.photos = { worker, remote, started };
      started.catch(() => { if (this.photos?.worker === worker) { worker.terminate(); this.photos = undefined; } }); // the next photo tries again
    }
    await this.photos.started;
    const copy = await createImageBitmap(photo);
    return this.photos.remote.detect(Comlink.transfer(copy, [copy]));
  }

  /** A frame begun when `begun` identity changes had been made has gone out: the switches it includes are done. */
  private frameSent(begun: number): void {
    if (!this.switches.length) return;
    const done = this.switches.filter((w) => w.after <= begun);
    this.switches = this.switches.filter((w) => w.after > begun);
    for (const w of done) w.sent();
  }

  /** The face track ends (no face, another identity): nothing to predict from, and the next swapped frame runs the landmarker. */
  private loseTrack(): void {
    this.smoother.reset();
    this.trackSize = null;
    this.cadence.restart();
  }

  /** Tells the cadence what a swapped frame cost, once its output exists. */
  private swapDone(result: { tracked: boolean; stages: { landmarksMs: number; engineMs: number; pasteMs: number } } | null): void {
    if (!result) return;
    const { landmarksMs, engineMs, pasteMs } = result.stages;
    this.cadence.frameDone(result.tracked ? landmarksMs : null, engineMs + pasteMs);
  }

  /** Sends the frame on unswapped (null), telling the watch why a chosen identity wasn't drawn; reports a stall that starts or ends. */
  private passThrough(blocked: Blockage | null): null {
    const change = this.watch.frame(performance.now(), blocked);
    if (change !== undefined) this.emit('stalled', change);
    return null;
  }

  private report(): void {
    const s = this.stats.take(performance.now());
    if (s) this.emit('stats', { ...s, landmarksEvery: this.cadence.every, framesHeld: this.framesHeld });
  }

  /** Tells the main thread, without waiting for it; nothing once destroyed (its listener is released). */
  private emit<K extends keyof CameraEvents>(event: K, ...args: Parameters<CameraEvents[K]>): void {
    const listener = this.events?.[event] as ((...a: Parameters<CameraEvents[K]>) => Promise<void>) | undefined;
    void listener?.(...args);
  }
}

Comlink.expose(new CameraWorker());
