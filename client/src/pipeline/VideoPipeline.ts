// The camera → published-track seam. Everything the call publishes as camera
// video comes out of a VideoPipeline; the call code never sends the raw camera
// track. FacePipeline (the camera worker) is the one that changes the video;
// createVideoPipeline() below passes the camera through where that can't run.
// `synthetic` flips the "synthetic video" disclosure that receivers see in the
// producer's appData.

/** What receivers are told about the published video. */
export interface Disclosure {
  synthetic: boolean;
  identityLabel?: string;
}

export interface VideoPipeline {
  /** The track to publish and to show in the local tile. */
  readonly output: MediaStreamTrack;
  /** True when `output` is not the camera image as captured (receivers show a badge). */
  readonly synthetic: boolean;
  /** Who the synthetic video depicts, when it depicts a known identity. */
  readonly identityLabel?: string;
  /** Disclosure changes on the same track (an identity switched mid-call); absent when it never changes. */
  onDisclosure?(cb: (d: Disclosure) => void): () => void;
  /**
   * Releases what the pipeline created (workers, generated tracks). It does
   * not stop `input`: whoever captured the camera stops it.
   */
  destroy(): void;
}

export type VideoPipelineFactory = (input: MediaStreamTrack) => VideoPipeline;

/** Passthrough: output is the camera track itself (where the camera worker can't run). */
export const createVideoPipeline: VideoPipelineFactory = (input) => ({
  output: input,
  synthetic: false,
  destroy() {},
});
