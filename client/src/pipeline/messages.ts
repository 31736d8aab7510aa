// Messages between the main-thread pipeline wrapper and the swap worker.
import type { EngineKind, SwapOptions } from '../engines/types.ts';
import type { PhotoProblem } from '@guise/face/photo';

/** Where the worker loads its models and wasm from (same origin, so COEP allows them). */
export interface AssetUrls { visionWasm: string; landmarkerModel: string; ortWasm: string; idnModel: string }

/** Where onnxruntime-web runs the neural engine: wasm (SIMD + threads) or WebGPU. */
export type IdnBackend = 'wasm' | 'webgpu';

/**
 * FaceLandmarker's delegate. Each has its own bundle: the GPU one merges the
 * landmark heads with ops the WebGL delegate accepts.
 */
export type LandmarkDelegate = 'CPU' | 'GPU';

export interface PipelineStats {
  fpsIn: number;
  fpsOut: number;
  /** Mean ms per stage over the last second. */
  landmarksMs: number;
  engineMs: number;
  pasteMs: number;
  /** Camera frames in this window never processed because the worker was busy (estimated from timestamp gaps). */
  dropped: number;
  faceFound: boolean;
}

export type ToWorker =
  | {
    type: 'start';
    assets: AssetUrls;
    delegate: LandmarkDelegate;
    engine: EngineKind;
    options: SwapOptions;
    /** Insertable streams (fast path): camera frames in, swapped frames out. */
    readable?: ReadableStream<VideoFrame>;
    writable?: WritableStream<VideoFrame>;
    /** Standard path: the camera track itself; the worker makes processor and VideoTrackGenerator. */
    track?: MediaStreamTrack;
    /** Fallback path: frames arrive as 'frame' messages and are drawn here, captured on the main thread. */
    canvas?: OffscreenCanvas;
  }
  | { type: 'frame'; bitmap: ImageBitmap; timestamp: number }
  | { type: 'prepareIdentity'; handle: number; label: string; photo: Blob; engine: EngineKind }
  | { type: 'loadIdentity'; handle: number; pack: ArrayBuffer }
  /** Which prepared identity (by the handle its prepare/load used) to draw from the next frame on; null shows the original face. */
  | { type: 'useIdentity'; handle: number | null }
  | { type: 'setOptions'; options: SwapOptions }
  /** Swap engine for the next frames; identities must be prepared for it (packs are per engine). */
  | { type: 'setEngine'; engine: EngineKind; backend?: IdnBackend | 'auto' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  /** Standard path: the generated track, or null where the worker has no VideoTrackGenerator. */
  | { type: 'output'; track: MediaStreamTrack | null }
  | { type: 'identityReady'; handle: number; pack?: ArrayBuffer }
  | { type: 'identityFailed'; handle: number; problem: PhotoProblem }
  /** The fallback path finished a frame: the main thread may send the next. */
  | { type: 'frameDone' }
  | { type: 'stats'; stats: PipelineStats }
  | { type: 'fatal'; message: string }
  /** An engine could not start (e.g. its model is missing); the pipeline carries on with the others. */
  | { type: 'engineFailed'; engine: EngineKind; message: string }
  /**
   * Frames are passing through although an identity is chosen, for longer than
   * a moment or because the engine fails (message), or they are swapped again (null).
   */
  | { type: 'swapProblem'; message: string | null }
  | { type: 'stopped' };
