// Per-second pipeline statistics, gathered in the worker. Pure: fed with
// timestamps and durations, so it is tested without a browser.
import type { PipelineStats } from './messages.ts';

export class StatsWindow {
  private inCount = 0;
  private outCount = 0;
  private sums = { landmarksMs: 0, engineMs: 0, pasteMs: 0 };
  private swapped = 0;
  private dropped = 0;
  private lastInputUs: number | undefined;
  /** The camera's frame interval, learnt as the smallest gap seen between consecutive frames. */
  private intervalUs = Infinity;
  private faceFound = false;

  constructor(private windowStart: number) {}

  /** A camera frame reached the worker; gaps bigger than the camera's interval mean frames were dropped upstream. */
  frameIn(timestampUs: number): void {
    this.inCount++;
    if (this.lastInputUs !== undefined) {
      const gap = timestampUs - this.lastInputUs;
      if (gap > 0) {
        this.intervalUs = Math.min(this.intervalUs, gap);
        this.dropped += Math.max(0, Math.round(gap / this.intervalUs) - 1);
      }
    }
    this.lastInputUs = timestampUs;
  }

  frameOut(stages: { landmarksMs: number; engineMs: number; pasteMs: number } | null, faceFound: boolean): void {
    this.outCount++;
    this.faceFound = faceFound;
    if (!stages) return;
    this.swapped++;
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
      dropped: this.dropped,
      faceFound: this.faceFound,
    };
    this.windowStart = now;
    this.inCount = this.outCount = this.swapped = this.dropped = 0;
    this.sums = { landmarksMs: 0, engineMs: 0, pasteMs: 0 };
    return stats;
  }
}
