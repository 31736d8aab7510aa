// How often the camera worker runs FaceLandmarker. Under load the landmark
// rate drops before the output rate: on the frames in between, the landmarks
// are predicted from the smoothed track (PointSmoother.predict), which costs
// next to nothing, so every camera frame still goes out swapped. Pure: fed
// with the stages' times, so it is tested without a browser.

/** Landmarks run at least on one frame in this many (10 a second from a 30 fps camera). */
export const MAX_LANDMARKS_EVERY = 3;
/**
 * The share of the camera's frame interval the worker may fill. The rest is
 * for what shares the cores with it: the encoder, the page, on a call's one
 * machine the other browser and the server.
 */
export const FRAME_BUDGET = 0.8;
/** Landmarks run more often again only when that fits this share of the budget, so the cadence doesn't flip every frame. */
export const RETURN_SHARE = 0.75;
/** Weight of the newest frame in the stages' running means. */
const EMA = 0.2;
const DEFAULT_FRAME_RATE = 30;

export class LandmarkCadence {
  /** Landmarks run on one frame in `every`. */
  every = 1;
  private sinceTracked = Infinity;
  private trackMs: number | undefined;
  private restMs: number | undefined;
  private intervalMs = 1000 / DEFAULT_FRAME_RATE;

  constructor(frameRate?: number, readonly maxEvery = MAX_LANDMARKS_EVERY) {
    this.setFrameRate(frameRate);
  }

  /** The camera's nominal frame rate, which sets the budget; unknown keeps 30 fps. */
  setFrameRate(frameRate: number | undefined): void {
    if (frameRate && frameRate > 0 && Number.isFinite(frameRate)) this.intervalMs = 1000 / frameRate;
  }

  /** Whether this frame runs the landmarker; if not, its landmarks are predicted. */
  trackNow(): boolean {
    return this.sinceTracked >= this.every;
  }

  /**
   * A swapped frame is done: `landmarksMs` is the landmarker's time where it
   * ran (null where the landmarks were predicted), `restMs` everything else
   * the frame cost the worker (engine, paste-back, the output frame).
   */
  frameDone(landmarksMs: number | null, restMs: number): void {
    if (landmarksMs !== null) {
      this.sinceTracked = 1;
      this.trackMs = mean(this.trackMs, landmarksMs);
    } else {
      this.sinceTracked++;
    }
    this.restMs = mean(this.restMs, restMs);
    this.every = this.choose();
  }

  /** No face, or a new identity or track: the next frame runs the landmarker, whatever the cadence. */
  restart(): void {
    this.sinceTracked = Infinity;
  }

  private choose(): number {
    const { trackMs, restMs } = this;
    if (trackMs === undefined || restMs === undefined) return this.every;
    const budget = FRAME_BUDGET * this.intervalMs;
    const cost = (every: number) => restMs + trackMs / every;
    let every = 1;
    while (every < this.maxEvery && cost(every) > budget) every++;
    if (every < this.every) {
      every = this.every;
      while (every > 1 && cost(every - 1) <= RETURN_SHARE * budget) every--;
    }
    return every;
  }
}

function mean(previous: number | undefined, value: number): number {
  return previous === undefined ? value : previous + EMA * (value - previous);
}
