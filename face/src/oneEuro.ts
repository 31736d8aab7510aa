// One Euro filter (Casiez, Roussel & Vogel, CHI 2012): a low-pass filter whose
// cutoff rises with speed, so a still face stops jittering while a moving face
// is followed with little lag. Pure logic: runs in Node and in workers.

export interface OneEuroParams {
  /** Cutoff (Hz) when the signal is still: lower = less jitter, more lag. */
  minCutoff: number;
  /** How fast the cutoff rises with speed, in Hz per (unit/s). */
  beta: number;
  /** Cutoff (Hz) for the speed estimate itself. */
  dCutoff: number;
}

/**
 * For landmarks in PIXELS of a ~640×480 frame at 15–30 fps.
 * - minCutoff 1 Hz: at 30 fps alpha ≈ 0.17, cutting static jitter (~1 px from
 *   the landmarker) to about a third; at 15 fps alpha ≈ 0.30.
 * - beta 0.05 per px/s: a head moving 200 px/s raises the cutoff to ~11 Hz
 *   (alpha ≈ 0.7 at 30 fps), leaving ~3 px of lag; jitter alone (smoothed speed
 *   of ~10 px/s) only adds ~0.5 Hz, so a still face stays still.
 * - dCutoff 1 Hz: the value the paper recommends; the speed is only a hint.
 * beta is in 1/px, so for a frame k times larger use beta / k.
 */
export const defaultLandmarkParams: OneEuroParams = Object.freeze({
  minCutoff: 1.0,
  beta: 0.05,
  dCutoff: 1.0,
});

/** Smoothing factor of an exponential low-pass with this cutoff over dt. */
export function smoothingFactor(cutoffHz: number, dtSeconds: number): number {
  const tau = 1 / (2 * Math.PI * cutoffHz);
  return 1 / (1 + tau / dtSeconds);
}

export class OneEuroFilter {
  private readonly params: OneEuroParams;
  private hasPrevious = false;
  private previousValue = 0;
  private previousSpeed = 0;
  private previousTime = 0;

  constructor(params: OneEuroParams) {
    assertParams(params);
    this.params = { ...params };
  }

  filter(value: number, timeSeconds: number): number {
    if (!this.hasPrevious) {
      this.hasPrevious = true;
      this.previousValue = value;
      this.previousSpeed = 0;
      this.previousTime = timeSeconds;
      return value;
    }
    const dt = timeSeconds - this.previousTime;
    // A repeated or out-of-order timestamp carries no new timing information;
    // dividing by it would produce Infinity/NaN and poison the state.
    if (!(dt > 0)) return this.previousValue;

    const { minCutoff, beta, dCutoff } = this.params;
    const rawSpeed = (value - this.previousValue) / dt;
    const speed = lerp(this.previousSpeed, rawSpeed, smoothingFactor(dCutoff, dt));
    const cutoff = minCutoff + beta * Math.abs(speed);
    const smoothed = lerp(this.previousValue, value, smoothingFactor(cutoff, dt));

    this.previousValue = smoothed;
    this.previousSpeed = speed;
    this.previousTime = timeSeconds;
    return smoothed;
  }

  /**
   * Where the signal is expected at `timeSeconds`, from the last smoothed
   * value and the filter's own (low-passed) speed; the state is unchanged.
   * For frames the measurement skips: extrapolating with the smoothed speed
   * follows a moving face without amplifying the measurement's jitter.
   * NaN before any value.
   */
  predict(timeSeconds: number): number {
    if (!this.hasPrevious) return NaN;
    // Motion is only extrapolated over a few frames; a longer gap holds the
    // last position rather than sending the points off in a straight line.
    const dt = Math.min(timeSeconds - this.previousTime, MAX_PREDICTION_S);
    return dt > 0 ? this.previousValue + this.previousSpeed * dt : this.previousValue;
  }

  reset(): void {
    this.hasPrevious = false;
    this.previousValue = 0;
    this.previousSpeed = 0;
    this.previousTime = 0;
  }
}

/** How far ahead predict() extrapolates: three frames at 30 fps. */
export const MAX_PREDICTION_S = 0.1;

/** Smooths a fixed set of points (e.g. 478 landmarks), one filter per coordinate. */
export class PointSmoother {
  private readonly filters: OneEuroFilter[];
  private readonly output: Float32Array;

  constructor(
    readonly pointCount: number,
    readonly dims: 2 | 3,
    params: OneEuroParams = defaultLandmarkParams,
  ) {
    if (!Number.isInteger(pointCount) || pointCount <= 0) {
      throw new RangeError(`pointCount must be a positive integer, got ${pointCount}`);
    }
    const length = pointCount * dims;
    this.filters = Array.from({ length }, () => new OneEuroFilter(params));
    this.output = new Float32Array(length);
  }

  /**
   * Returns the smoothed points, interleaved like the input. The returned array
   * is reused by the next call: copy it if you need to keep it.
   */
  apply(points: Float32Array, timeSeconds: number): Float32Array {
    if (points.length !== this.output.length) {
      throw new RangeError(
        `expected ${this.pointCount} points × ${this.dims} = ${this.output.length} values, got ${points.length}`,
      );
    }
    for (let i = 0; i < points.length; i++) {
      this.output[i] = this.filters[i]!.filter(points[i]!, timeSeconds);
    }
    return this.output;
  }

  /**
   * The points predicted at `timeSeconds` (OneEuroFilter.predict), without
   * changing the filters; NaN before the first apply(). Same reused array as apply().
   */
  predict(timeSeconds: number): Float32Array {
    for (let i = 0; i < this.filters.length; i++) this.output[i] = this.filters[i]!.predict(timeSeconds);
    return this.output;
  }

  reset(): void {
    for (const f of this.filters) f.reset();
  }
}

function lerp(from: number, to: number, alpha: number): number {
  return from + alpha * (to - from);
}

function assertParams(p: OneEuroParams): void {
  if (!(p.minCutoff > 0) || !Number.isFinite(p.minCutoff)) {
    throw new RangeError(`minCutoff must be a positive number, got ${p.minCutoff}`);
  }
  if (!(p.beta >= 0) || !Number.isFinite(p.beta)) {
    throw new RangeError(`beta must be a non-negative number, got ${p.beta}`);
  }
  if (!(p.dCutoff > 0) || !Number.isFinite(p.dCutoff)) {
    throw new RangeError(`dCutoff must be a positive number, got ${p.dCutoff}`);
  }
}
