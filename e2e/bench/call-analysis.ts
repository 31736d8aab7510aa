// Pure analysis of what the call bench's probes recorded: latency by frame
// number, percentiles, output gaps, and which face a received frame shows.
import type { CameraFrame, PresentedFrame } from './call-pages.ts';
import { THUMB } from './call-pages.ts';

export const percentile = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
export const round1 = (x: number) => +x.toFixed(1);

/**
 * When the sender's camera delivered each frame number. The fake camera loops
 * its file, so a number means "the latest time the camera delivered it
 * before". Capture timestamps are put on the wall clock per clone by the
 * smallest read delay seen.
 */
export class CameraLog {
  private readonly byStamp = new Map<number, { ts: number; clone: number }[]>();
  /** Per clone: min(read time − capture time), ms. */
  private readonly offset = new Map<number, number>();
  add(frames: CameraFrame[]): void {
    for (const [stamp, readAt, timestampUs, clone] of frames) {
      this.offset.set(clone, Math.min(this.offset.get(clone) ?? Infinity, readAt - timestampUs / 1000));
      if (stamp < 0) continue;
      let list = this.byStamp.get(stamp);
      if (!list) this.byStamp.set(stamp, (list = []));
      list.push({ ts: timestampUs / 1000, clone });
    }
  }
  /** When the camera last delivered frame `stamp` at or before `t`, if within `maxAgeMs`. */
  sentAt(stamp: number, t: number, maxAgeMs: number): number | undefined {
    let found: number | undefined;
    for (const { ts, clone } of this.byStamp.get(stamp) ?? []) {
      const at = ts + this.offset.get(clone)!;
      if (at <= t && t - at <= maxAgeMs && (found === undefined || at > found)) found = at;
    }
    return found;
  }
}

/**
 * Frames per second the camera delivered, counted by frame number (the file
 * loops every `loop` frames), so frames the probe itself missed on a busy page
 * still count and repeated or reordered frames don't, over the span of their
 * capture timestamps; on the busiest clone (the app may hold several tracks).
 */
export function cameraFps(frames: CameraFrame[], loop: number): number {
  const clones = new Map<number, { last: number; count: number; firstUs: number; lastUs: number }>();
  for (const [stamp, , timestampUs, clone] of frames) {
    if (stamp < 0) continue;
    const c = clones.get(clone);
    if (!c) { clones.set(clone, { last: stamp, count: 0, firstUs: timestampUs, lastUs: timestampUs }); continue; }
    const step = (stamp - c.last + loop) % loop;
    if (step >= loop / 2) continue; // read out of order, not half a loop of frames
    c.count += step;
    c.last = stamp;
    c.lastUs = timestampUs;
  }
  return Math.max(0, ...[...clones.values()].map((c) => (c.lastUs > c.firstUs ? c.count / ((c.lastUs - c.firstUs) / 1e6) : 0)));
}

/** Frames per second presented, over the span of their own times. */
export function presentedFps(frames: PresentedFrame[]): number {
  if (frames.length < 2) return 0;
  return (frames.length - 1) / ((frames.at(-1)!.t - frames[0]!.t) / 1000);
}

/** Camera-to-receiver-screen latency (ms) of each received frame whose number was readable. */
export function latencies(frames: PresentedFrame[], camera: CameraLog, maxAgeMs = 5000): number[] {
  const out: number[] = [];
  for (const f of frames) {
    if (f.stamp < 0) continue;
    const sent = camera.sentAt(f.stamp, f.t, maxAgeMs);
    if (sent !== undefined) out.push(f.t - sent);
  }
  return out;
}

/** The largest gap (ms) between presented frames that ends after `from` and starts before `to`. */
export function maxGap(frames: PresentedFrame[], from: number, to: number): number {
  let worst = 0;
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!.t, b = frames[i]!.t;
    if (b > from && a < to) worst = Math.max(worst, b - a);
  }
  // A stream that stopped altogether: the gap runs to the end of the span.
  const last = frames.at(-1)?.t ?? from;
  return Math.max(worst, to - Math.max(last, from));
}

/** The fewest frames presented in any 1-s span starting in [from, to − 1 s] (stepped by 100 ms). */
export function minFps(frames: PresentedFrame[], from: number, to: number): number {
  let min = Infinity;
  for (let s = from; s + 1000 <= to; s += 100) {
    const n = frames.filter((f) => f.t >= s && f.t < s + 1000).length;
    min = Math.min(min, n);
  }
  return Number.isFinite(min) ? min : NaN;
}

/** Thumbnails by frame number (the latest seen of each). */
export function refsByStamp(frames: PresentedFrame[]): Map<number, number[]> {
  const refs = new Map<number, number[]>();
  for (const f of frames) if (f.stamp >= 0) refs.set(f.stamp, f.thumb);
  return refs;
}

/** Mean absolute luma difference, leaving out the bottom row of the thumbnail, where the frame number is. */
export function distance(a: number[], b: number[]): number {
  const n = THUMB.w * (THUMB.h - 1);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(a[i]! - b[i]!);
  return s / n;
}

/**
 * The look's thumbnail at frame number `stamp`, or failing that at the
 * nearest number within `tolerance` frames (the camera loops every `loop`
 * frames): at a low frame rate a look has only some numbers.
 */
export function lookAt(look: Map<number, number[]>, stamp: number, loop: number, tolerance = 15): number[] | undefined {
  for (let d = 0; d <= tolerance; d++) {
    const ref = look.get((stamp + d) % loop) ?? look.get((stamp - d + loop) % loop);
    if (ref) return ref;
  }
  return undefined;
}

/**
 * Which of the labelled looks a received frame is closest to, each compared
 * at (or near) the same frame number, so the head's pose is about the same;
 * undefined where its number is unreadable or no look has a frame near it.
 */
export function classify<L extends string>(frame: PresentedFrame, looks: Record<L, Map<number, number[]>>, loop: number): L | undefined {
  if (frame.stamp < 0) return undefined;
  let best: L | undefined, bestD = Infinity;
  for (const label of Object.keys(looks) as L[]) {
    const ref = lookAt(looks[label], frame.stamp, loop);
    if (!ref) continue;
    const d = distance(frame.thumb, ref);
    if (d < bestD) { bestD = d; best = label; }
  }
  return best;
}

/**
 * Whether a received frame shows a swapped face: further from the unswapped
 * look at its frame number than half the typical distance between the swapped
 * and the unswapped looks (`swapDistance`).
 */
export function looksSwapped(frame: PresentedFrame, raw: Map<number, number[]>, swapDistance: number, loop: number): boolean | undefined {
  if (frame.stamp < 0) return undefined;
  const ref = lookAt(raw, frame.stamp, loop, 0);
  return ref ? distance(frame.thumb, ref) > swapDistance / 2 : undefined;
}

/** The median distance between a swapped look and the unswapped one at the same frame numbers. */
export function swapDistance(swapped: Map<number, number[]>, raw: Map<number, number[]>): number {
  const ds: number[] = [];
  for (const [stamp, thumb] of swapped) {
    const ref = raw.get(stamp);
    if (ref) ds.push(distance(thumb, ref));
  }
  return percentile(ds, 50);
}
