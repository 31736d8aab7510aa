/// <reference lib="webworker" />
// The swap worker: camera frames in, swapped frames out, off the main thread.
// Per frame: landmarks → smoothing → engine (which pastes back) → output.
// Frames are never queued: the processor upstream keeps only the newest one
// while this worker is busy, and every VideoFrame is closed exactly once.
import { createIdnEngine } from '../../engines/idn/IdnEngine.ts';
import { createMeshEngine } from '../../engines/mesh/MeshEngine.ts';
import type { EngineKind, FaceGeometry, SwapEngine, SwapOptions } from '../../engines/types.ts';
import { PointSmoother } from '@guise/face/oneEuro';
import { decodePack, encodePack, type IdentityPack } from '@guise/face/pack';
import { checkFaces, checkPhotoDimensions, undecodable, type PhotoProblem } from '@guise/face/photo';
import { EngineSlot } from '../engineSlot.ts';
import type { AssetUrls, FromWorker, IdnBackend, ToWorker } from '../messages.ts';
import { StatsWindow } from '../stats.ts';
import { ENGINE_DEADLINE_MS, Overdue, SwapWatch, withDeadline, type Blockage } from '../swapWatch.ts';
import { createLandmarkers, faceBox, sizeOf, type Landmarkers } from './landmarks.ts';

declare const self: DedicatedWorkerGlobalScope;
const post = (msg: FromWorker, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

class PhotoRejected extends Error {
  constructor(readonly problem: PhotoProblem) { super(problem.message); }
}

let landmarkers: Landmarkers | undefined;
let assets: AssetUrls;
/** Engines by kind, started on first use (the neural one loads its models then); the latest request wins. */
const engines = new EngineSlot<SwapEngine>((kind, backend) =>
  kind === 'mesh' ? Promise.resolve(createMeshEngine()) : createIdnEngine(assets, backend));
let options: SwapOptions;
const packs = new Map<number, IdentityPack>();
let active: IdentityPack | null = null;
const smoother = new PointSmoother(478, 3);
let stats = new StatsWindow(performance.now());
/** Says so (in the swap state) when frames pass through for longer than a moment while an identity is chosen. */
const watch = new SwapWatch();
/** An engine call past its deadline that has not come back: frames pass through until it does. */
let stuck: Promise<unknown> | undefined;
let stopped = false;
let output: OffscreenCanvasRenderingContext2D | undefined; // fallback path only

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case 'start': void start(msg); break;
    case 'frame': void drawFallbackFrame(msg.bitmap, msg.timestamp); break;
    case 'prepareIdentity': void prepareIdentity(msg.handle, msg.label, msg.photo, msg.engine); break;
    case 'loadIdentity': void loadIdentity(msg.handle, msg.pack); break;
    case 'useIdentity': useIdentity(msg.handle); break;
    case 'setOptions': options = msg.options; break;
    case 'setEngine': void setEngine(msg.engine, msg.backend); break;
    case 'stop': stop(); break;
  }
};

async function start(msg: Extract<ToWorker, { type: 'start' }>) {
  options = msg.options;
  // Chosen now, started once the face tracker is up: a setEngine arriving meanwhile wins.
  engines.choose(msg.engine);
  assets = msg.assets;
  if (msg.canvas) output = msg.canvas.getContext('2d')!;
  // Frames pass through untouched while the models load.
  if (msg.readable && msg.writable) void pump(msg.readable, msg.writable);
  if (msg.track) startStandardPath(msg.track);
  try {
    landmarkers = await createLandmarkers(msg.assets, msg.delegate);
    post({ type: 'ready' });
    void engines.startWanted().catch((err: Error) => post({ type: 'engineFailed', engine: engines.wanted, message: err.message }));
  } catch (err) {
    post({ type: 'fatal', message: `the face tracker could not start: ${(err as Error).message}` });
  }
}

async function setEngine(kind: EngineKind, backend?: IdnBackend | 'auto') {
  try {
    await engines.want(kind, backend);
  } catch (err) {
    post({ type: 'engineFailed', engine: kind, message: (err as Error).message });
  }
}

/** The standard path (Safari): processor and generator both live in the worker. */
function startStandardPath(track: MediaStreamTrack) {
  const Generator = (self as unknown as { VideoTrackGenerator?: new () => { track: MediaStreamTrack; writable: WritableStream<VideoFrame> } }).VideoTrackGenerator;
  if (!Generator || typeof MediaStreamTrackProcessor === 'undefined') {
    track.stop();
    post({ type: 'output', track: null });
    return;
  }
  const generator = new Generator();
  const processor = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 });
  post({ type: 'output', track: generator.track }, [generator.track as unknown as Transferable]);
  void pump(processor.readable, generator.writable).finally(() => track.stop());
}

/** Insertable streams: read, process and write one frame at a time. */
async function pump(readable: ReadableStream<VideoFrame>, writable: WritableStream<VideoFrame>) {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  try {
    while (!stopped) {
      const { value: frame, done } = await reader.read();
      if (done) break;
      if (stopped) { frame.close(); break; }
      // The sink takes ownership of what is written: it closes it.
      await writer.write(await processFrame(frame));
    }
  } catch (err) {
    if (!stopped) post({ type: 'fatal', message: `video processing stopped: ${(err as Error).message}` });
  } finally {
    await reader.cancel().catch(() => {});
    await writer.close().catch(() => {});
    post({ type: 'stopped' });
  }
}

/** Returns the frame to send: the input itself (passthrough) or a new swapped frame, in which case the input is closed. */
async function processFrame(frame: VideoFrame): Promise<VideoFrame> {
  stats.frameIn(frame.timestamp);
  let result: Awaited<ReturnType<typeof swap>>;
  try {
    result = await swap(frame, frame.timestamp / 1000);
  } catch (err) {
    frame.close();
    throw err;
  }
  let out = frame;
  if (result) {
    const t = performance.now();
    out = new VideoFrame(result.canvas, { timestamp: frame.timestamp, ...(frame.duration ? { duration: frame.duration } : {}) });
    frame.close();
    result.stages.pasteMs += performance.now() - t;
  }
  stats.frameOut(result?.stages ?? null, result !== null);
  report();
  return out;
}

/** The fallback path: an ImageBitmap from the main thread, drawn into the captured canvas. */
async function drawFallbackFrame(bitmap: ImageBitmap, timestampMs: number) {
  if (output) {
    stats.frameIn(timestampMs * 1000);
    const result = await swap(bitmap, timestampMs).catch(() => null);
    const { canvas } = output;
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    output.drawImage(result?.canvas ?? bitmap, 0, 0);
    stats.frameOut(result?.stages ?? null, result !== null);
    report();
  }
  bitmap.close();
  post({ type: 'frameDone' });
}

/**
 * The swap of one frame, or null to pass it through: no identity chosen, the
 * models not loaded yet, no face in view (never a half-swapped frame), or the
 * engine failing. Never throws, never waits for good: whatever keeps a chosen
 * identity from being drawn goes to the watch, which reports it if it lasts.
 */
async function swap(frame: VideoFrame | ImageBitmap, timestampMs: number) {
  const pack = active;
  if (!pack) return passThrough(null);
  const engine = engines.current; // the same one for the whole frame, whatever a setEngine does meanwhile
  if (!landmarkers) return passThrough({ reason: 'the face tracker has not started' });
  if (!engine) return passThrough({ reason: `the ${engines.wanted} engine has not started` });
  // A pack made by another engine waits for its re-preparation (an engine switch).
  if (pack.engine !== engine.kind) {
    return passThrough({ reason: `the identity was prepared for the ${pack.engine} engine, but the ${engine.kind} engine is running` });
  }
  if (stuck) return passThrough({ reason: `the ${engine.kind} engine has not finished a frame in ${ENGINE_DEADLINE_MS / 1000} s`, urgent: true });
  let call: OffscreenCanvas | Promise<OffscreenCanvas> | undefined;
  try {
    const t0 = performance.now();
    const face = landmarkers.track(frame, timestampMs);
    if (!face) {
      smoother.reset(); // the next face may be someone else, somewhere else
      return passThrough(null);
    }
    const smoothed: FaceGeometry = { ...face, points: smoother.apply(face.points, timestampMs / 1000) };
    const landmarksMs = performance.now() - t0;
    call = engine.swap(frame, smoothed, pack, options);
    const canvas = await withDeadline(call, ENGINE_DEADLINE_MS, `the ${engine.kind} engine`);
    passThrough(null);
    return { canvas, stages: { landmarksMs, engineMs: engine.timings.engineMs, pasteMs: engine.timings.pasteMs } };
  } catch (err) {
    if (err instanceof Overdue) {
      // The call carries on: no other is started until it is back (say, an ONNX run that never ends).
      const late = Promise.resolve(call);
      stuck = late;
      const back = () => { if (stuck === late) stuck = undefined; };
      late.then(back, back);
      return passThrough({ reason: `the ${engine.kind} engine has not finished a frame in ${ENGINE_DEADLINE_MS / 1000} s`, urgent: true });
    }
    return passThrough({ reason: `the ${engine.kind} engine failed on a frame: ${(err as Error).message}`, urgent: true });
  }
}

/** Sends the frame on unswapped (null), telling the watch why a chosen identity wasn't drawn; reports a problem that starts or ends. */
function passThrough(blocked: Blockage | null): null {
  const change = watch.frame(performance.now(), blocked);
  if (change !== undefined) post({ type: 'swapProblem', message: change });
  return null;
}

function report() {
  const s = stats.take(performance.now());
  if (s) post({ type: 'stats', stats: s });
}

async function prepareIdentity(handle: number, label: string, photo: Blob, kind: EngineKind) {
  let bitmap: ImageBitmap | undefined;
  try {
    await until(() => landmarkers !== undefined);
    const maker = await engines.get(kind);
    try {
      bitmap = await createImageBitmap(photo);
    } catch {
      throw new PhotoRejected(undecodable());
    }
    const sizeProblem = checkPhotoDimensions(bitmap.width, bitmap.height);
    if (sizeProblem) throw new PhotoRejected(sizeProblem);
    const faces = await landmarkers!.detectAll(bitmap);
    const faceProblem = checkFaces(faces.map(faceBox), bitmap.width, bitmap.height);
    if (faceProblem) throw new PhotoRejected(faceProblem);
    const pack = await maker.prepareIdentity(bitmap, faces[0]!, label);
    packs.set(handle, pack);
    const bytes = encodePack(pack);
    post({ type: 'identityReady', handle, pack: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    const problem: PhotoProblem = err instanceof PhotoRejected
      ? err.problem
      : { code: 'undecodable', message: `Could not use this photo: ${(err as Error).message}` };
    post({ type: 'identityFailed', handle, problem });
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
async function loadIdentity(handle: number, bytes: ArrayBuffer) {
  let pack: IdentityPack;
  try {
    pack = decodePack(bytes);
  } catch (err) {
    post({ type: 'identityFailed', handle, problem: { code: 'undecodable', message: `The saved identity is damaged (${(err as Error).message}); choose the photo again.` } });
    return;
  }
  try {
    if (pack.engine !== 'mesh' && pack.engine !== 'idn') throw new Error(`it was made for an unknown engine "${pack.engine.slice(0, 64)}"`);
    const problem = (await engines.get(pack.engine)).packProblem?.(pack);
    if (problem) throw new Error(problem);
  } catch (err) {
    post({ type: 'identityFailed', handle, problem: { code: 'undecodable', message: `The saved identity does not fit the swap model (${(err as Error).message}); it is prepared again.` } });
    return;
  }
  packs.set(handle, pack);
  post({ type: 'identityReady', handle });
}

function useIdentity(handle: number | null) {
  const next = handle === null ? null : packs.get(handle) ?? null;
  if (active !== next) smoother.reset();
  active = next;
}

function stop() {
  stopped = true;
  packs.clear();
  active = null;
  // Releases each engine's GPU resources and ONNX sessions.
  engines.disposeAll();
  landmarkers?.close();
  // Without a stream pump (fallback path), nothing else will say so.
  if (output) post({ type: 'stopped' });
}

async function until(cond: () => boolean) {
  while (!cond()) {
    if (stopped) throw new Error('the video pipeline stopped');
    await new Promise((r) => setTimeout(r, 50));
  }
}
