// What crosses between the main-thread FacePipeline and the camera worker.
// The calls themselves are CameraWorker's methods (Comlink); these are the
// values they take and give, and the events the worker reports.
import type { EngineKind, SwapOptions } from '../engines/types.ts';
import type { ModelLoad } from '../engines/idn/modelFiles.ts';
import type { LandmarkDelegate } from '@guise/face/landmarker';
import type { PhotoProblem } from '@guise/face/photo';

export type { IdnBackend } from '../engines/types.ts';
export type { ModelLoad };
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
  /**
   * Camera frames in this window that will never be sent: those that never
   * reached the worker (a gap of n nominal camera intervals between consecutive
   * frame timestamps counts n − 1; the interval comes from the camera track's
   * settings, not from the gaps seen) plus those the worker received and
   * discarded. So camera frames − frames out, per window.
   */
  dropped: number;
  faceFound: boolean;
  /**
   * Swapped frames per second that showed a newly generated face. Equal to the
   * swapped frame rate where each frame's face is made from it (mesh); lower
   * where the generator runs beside the frames and its newest face is reused (idn).
   */
  facesPerSecond: number;
  /**
   * Landmarks run on one swapped frame in this many (1: every frame); under
   * load the rest use landmarks predicted from the track. Set by the camera
   * worker; landmarksMs averages over all swapped frames, predicted ones included.
   */
  landmarksEvery?: number;
  /**
   * VideoFrames the worker holds as it reports (set by the camera worker on
   * the insertable-streams paths): the one frame being sent. More means frames
   * are not being closed. Chromium's "garbage collected without being closed"
   * warning is not reported for workers, so this is how tests see a leak there.
   */
  framesHeld?: number;
}

/** What the worker needs before any frame path is connected. */
export interface CameraSettings {
  assets: AssetUrls;
  delegate: LandmarkDelegate;
  /** The engine to start once the face tracker is up (a setEngine made meanwhile wins). */
  engine: EngineKind;
  options: SwapOptions;
  /** The camera track's nominal frame rate (its settings), against which dropped frames are counted. */
  frameRate?: number;
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
  /**
   * Getting the neural model's files, from Cache Storage or the network: about
   * one report per percent, and a last one with `doneMs` set once all are in hand.
   */
  modelLoad(load: ModelLoad): void;
}
