// The engines' one interface. The pipeline (landmarks, smoothing, frame I/O)
// is shared; an engine only turns a frame plus face geometry into a swapped
// frame. `mesh` is classical WebGL2; `idn` (MobileFaceSwap) is neural. Both
// are classes made by an async static `create`.
import type { FaceGeometry } from '@guise/face/landmarker';
import type { IdentityPack } from '@guise/face/pack';

export type EngineKind = 'mesh' | 'idn';

/** Where onnxruntime-web runs the neural engine: wasm (SIMD + threads) or WebGPU. */
export type IdnBackend = 'wasm' | 'webgpu';

export interface SwapOptions {
  /** Match the swapped face's colour to the target's (lighting, white balance). */
  colourMatch: boolean;
  /** Show the target's own eyes (their blinking and gaze) instead of the source's. */
  keepEyes: boolean;
  /** Show the target's own mouth interior (teeth, tongue) as they talk. */
  keepMouth: boolean;
  /** Draw the "synthetic" disclosure mark into swapped frames (on unless the person turned it off, see app/storage). */
  disclosureMark: boolean;
}

export const defaultSwapOptions: SwapOptions = { colourMatch: true, keepEyes: false, keepMouth: true, disclosureMark: true };

/** Milliseconds spent in the engine's stages for the last frame. */
export interface EngineTimings {
  engineMs: number;
  pasteMs: number;
  /** Whether the last frame showed a face not shown before (absent: every frame's face is its own). */
  newFace?: boolean;
}

export interface Engine {
  readonly kind: EngineKind;
  /** Once per identity: the source photo and its face → a pack that can be cached and reloaded. */
  prepareIdentity(photo: ImageBitmap, face: FaceGeometry, label: string): Promise<IdentityPack>;
  /**
   * Per frame: draws `frame` with the pack's face swapped onto `face` into the
   * engine's canvas, sized to the frame, and returns that canvas. The pipeline
   * wraps it in the output VideoFrame. GPU resources for a pack are created on
   * first use and kept until dispose(), so switching between packs is cheap.
   */
  swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): OffscreenCanvas | Promise<OffscreenCanvas>;
  readonly timings: EngineTimings;
  /** Null where `pack` (from the cache, say) fits this engine and its model, else why not. Absent: every pack of this kind fits. */
  packProblem?(pack: IdentityPack): string | null;
  /** Drops the GPU resources of a pack that will not be used again. */
  forget(pack: IdentityPack): void;
  dispose(): void;
}
