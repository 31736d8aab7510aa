// Per-second pipeline statistics, gathered in the worker. Pure: fed with
// timestamps and durations, so it is tested without a browser.
import type { PipelineStats } from './messages.ts';

export class StatsWindow {
  private inCount = 0;
  private outCount = 0;
  private sums = { landmarksMs: 0, engineMs: 0, pasteMs: 0 };
  private swapped = 0;
  private newFaces = 0;
  private missedUpstream = 0;
  private skipped = 0;
  private lastInputUs: number | undefined;
  /** The camera's nominal frame interval (from its track settings); undefined while unknown. */
  private intervalUs: number | undefined;
  private faceFound = false;

  /** `frameRate`: the camera track's nominal rate (MediaTrackSettings.frameRate), if known yet. */
  constructor(private windowStart: number, frameRate?: number) {
    this.setFrameRate(frameRate);
  }

  /**
   * The camera's nominal frame rate. Gaps are measured against it, never
   * against the gaps seen: a camera that delivers two frames close together
   * once would otherwise make every later normal gap look like many drops.
   */
  setFrameRate(frameRate: number | undefined): void {
    this.intervalUs = frameRate && frameRate > 0 && Number.isFinite(frameRate) ? 1e6 / frameRate : undefined;
  }

  /** A camera frame reached the worker; a gap of n camera intervals since the last one means n − 1 never reached it. */
  frameIn(timestampUs: number): void {
    this.inCount++;
    if (this.lastInputUs !== undefined && this.intervalUs !== undefined) {
      const gap = timestampUs - this.lastInputUs;
      if (gap > 0) this.missedUpstream += Math.max(0, Math.round(gap / this.intervalUs) - 1);
    }
    this.lastInputUs = timestampUs;
  }

  /** A frame the worker received but will not send on (for pipelines that discard frames themselves). */
  frameSkipped(): void {
    this.skipped++;
  }

  /** `stages.newFace` false: the engine showed a face it had shown before (its generator runs beside the frames). */
  frameOut(stages: { landmarksMs: number; engineMs: number; pasteMs: number; newFace?: boolean } | null, faceFound: boolean): void {
    this.outCount++;
    this.faceFound = faceFound;
    if (!stages) return;
    this.swapped++;
    if (stages.newFace !== false) this.newFaces++;
    this.sums.landmarksMs += stages.landmarksMs;
    this.sums.engineMs += stages.engineMs;
    this.sums.pasteMs += stages.pasteMs;
  }

  /** Returns the window's stats once `now` is a second past its start, and starts a new window. */
  take(now: number): PipelineStats | null {
    const seconds = (now - this.windowStart) / 1000;
    if (seconds < 1) return null;
    const n = Math.max(1, this.swapped);
    const stats: PipelineStats = {
      fpsIn: +(this.inCount / seconds).toFixed(1),
      fpsOut: +(this.outCount / seconds).toFixed(1),
      landmarksMs: +(this.sums.landmarksMs / n).toFixed(1),
      engineMs: +(this.sums.engineMs / n).toFixed(1),
      pasteMs: +(this.sums.pasteMs / n).toFixed(1),
      dropped: this.missedUpstream + this.skipped,
      faceFound: this.faceFound,
      facesPerSecond: +(this.newFaces / seconds).toFixed(1),
    };
    this.windowStart = now;
    this.inCount = this.outCount = this.swapped = this.newFaces = this.missedUpstream = this.skipped = 0;
    this.sums = { landmarksMs: 0, engineMs: 0, pasteMs: 0 };
    return stats;
  }
}
