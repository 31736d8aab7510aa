// Keeps the worker from passing frames through silently. While a chosen
// identity can't be drawn (its engine still starting, the identity being
// prepared again for another engine, an engine call that never came back or
// that throws) the worker sends the camera on as it is; that is fine for a
// moment, never for good. StallWatch turns a lasting (or, for an engine that
// fails or hangs, any) blockage into a problem the person is shown, and clears
// it once frames are swapped again. Pure, so it is tested without a browser.

/** How long frames may pass through for a fixable reason (an engine starting, an identity being prepared) before it is a problem. */
export const STALL_GRACE_MS = 15_000;

/** How long one engine call may take before the frame is sent on without it (and the engine counts as stuck). */
export const ENGINE_DEADLINE_MS = 10_000;

export interface Blockage {
  /** Why the chosen identity could not be drawn on this frame. */
  reason: string;
  /** Reported at once (an engine that failed or hangs), not after the grace period. */
  urgent?: boolean;
}

export class StallWatch {
  private blockedSince: number | undefined;
  private reported: string | null = null;

  constructor(private readonly graceMs = STALL_GRACE_MS) {}

  /** The problem being reported now, or null. */
  get problem(): string | null { return this.reported; }

  /**
   * Per frame, at `now` (ms): why the chosen identity was not drawn, or null
   * where it was or there was nothing to draw (no identity chosen, no face in
   * view). Returns the problem to report where it changed (a message, or null
   * once it has cleared), else undefined.
   */
  frame(now: number, blocked: Blockage | null): string | null | undefined {
    if (!blocked) {
      this.blockedSince = undefined;
      return this.change(null);
    }
    this.blockedSince ??= now;
    if (blocked.urgent || now - this.blockedSince >= this.graceMs) {
      return this.change(`The face swap stopped (${blocked.reason}); your camera is sent unswapped meanwhile.`);
    }
    return undefined;
  }

  private change(next: string | null): string | null | undefined {
    if (next === this.reported) return undefined;
    this.reported = next;
    return next;
  }
}

/** Thrown by withDeadline when the work took too long (the work itself carries on). */
export class Overdue extends Error {}

/** `work`'s result, or an Overdue rejection once `ms` have passed without one. */
export function withDeadline<T>(work: T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Overdue(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([Promise.resolve(work), late]).finally(() => clearTimeout(timer));
}
