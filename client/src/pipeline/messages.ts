// What crosses between the main-thread FacePipeline and the camera worker.
// The calls themselves are CameraWorker's methods (Comlink); these are the
// values they take and give, and the events the worker reports.
import type { EngineKind, SwapOptions } from '../engines/types.ts';
import type { LandmarkDelegate } from '@guise/face/landmarker';
import type { PhotoProblem } from '@guise/face/photo';

export type { IdnBackend } from '../engines/types.ts';
export type { LandmarkDelegate };

/** Where the worker loads its models and wasm from (same origin, so COEP allows them). */
export interface AssetUrls { visionWasm: string; landmarkerModel: string; ortWasm: string; idnModel: string }

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

/** What the worker needs before any frame path is connected. */
export interface CameraSettings {
  assets: AssetUrls;
  delegate: LandmarkDelegate;
  /** The engine to start once the face tracker is up (a setEngine made meanwhile wins). */
  engine: EngineKind;
  options: SwapOptions;
}

/** A prepared (or loaded) identity: the handle to use it by, and for a new one its pack to cache. */
export type IdentityResult =
  | { ok: true; handle: number; pack?: ArrayBuffer }
  | { ok: false; problem: PhotoProblem };

/** What the worker reports as it happens (a Comlink proxy on the main thread). */
export interface CameraEvents {
  stats(stats: PipelineStats): void;
  /** The worker chose another engine on its own: it fell back to `kind` (mesh) after the one asked for failed. */
  engine(kind: EngineKind): void;
  /** An engine could not start (e.g. its model is missing); the worker falls back to the mesh engine. */
  engineFailed(kind: EngineKind, message: string): void;
  /**
   * Frames are passing through although an identity is chosen, for longer than
   * a moment or because the engine fails (message), or they are swapped again (null).
   */
  stalled(message: string | null): void;
  /** Frames stopped flowing for good. */
  failed(message: string): void;
}
