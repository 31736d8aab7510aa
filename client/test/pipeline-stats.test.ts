import { describe, expect, it } from 'vitest';
import { StatsWindow } from '../src/pipeline/stats.ts';

const stages = { landmarksMs: 20, engineMs: 10, pasteMs: 5 };
const interval = 33_333; // µs between frames of a 30 fps camera

describe('StatsWindow', () => {
  it('reports nothing until a second has passed', () => {
    const w = new StatsWindow(0, 30);
    w.frameIn(0);
    w.frameOut(stages, true);
    expect(w.take(999)).toBeNull();
    expect(w.take(1000)).not.toBeNull();
  });

  it('counts fps in and out and averages the stages over swapped frames only', () => {
    const w = new StatsWindow(0, 30);
    for (let i = 0; i < 30; i++) {
      w.frameIn(i * interval);
      // Every other frame had no face: passed through, no stage times.
      w.frameOut(i % 2 ? null : { landmarksMs: 20 + (i % 4), engineMs: 10, pasteMs: 5 }, i % 2 === 0);
    }
    const s = w.take(2000)!;
    expect(s.fpsIn).toBe(15);
    expect(s.fpsOut).toBe(15);
    expect(s.landmarksMs).toBeCloseTo(20 + 14 / 15, 1); // 8 frames at 20 ms, 7 at 22 ms
    expect(s.engineMs).toBe(10);
    expect(s.pasteMs).toBe(5);
    expect(s.dropped).toBe(0);
  });

  it('counts camera frames that never reached the worker from gaps against the nominal interval', () => {
    const w = new StatsWindow(0, 30);
    // Frames 0,1,2 arrive, then 3 and 4 are dropped, then 5, then 6..8 are dropped, then 9.
    for (const n of [0, 1, 2, 5, 9]) w.frameIn(n * interval);
    expect(w.take(1000)!.dropped).toBe(5);
  });

  it('is not thrown by two frames 1 ms apart', () => {
    const w = new StatsWindow(0, 30);
    // A full second of 30 fps with every frame sent, plus one planted 1 ms after frame 10.
    for (let n = 0; n < 30; n++) {
      w.frameIn(n * interval);
      w.frameOut(stages, true);
      if (n === 10) {
        w.frameIn(n * interval + 1000);
        w.frameOut(stages, true);
      }
    }
    expect(w.take(1000)!.dropped).toBe(0);
    // Later normal gaps still count as one interval each: nothing was learnt from the close pair.
    for (let n = 30; n < 60; n++) w.frameIn(n * interval);
    expect(w.take(2000)!.dropped).toBe(0);
  });

  it('is camera frames in minus frames out: upstream misses plus frames the worker discarded', () => {
    const w = new StatsWindow(0, 30);
    // 30 camera frames: 10 never reach the worker, 20 do; of those 4 are discarded, 16 sent.
    let sent = 0;
    for (let n = 0; n < 30; n++) {
      if (n % 3 === 1) continue;
      w.frameIn(n * interval);
      if (n % 4 === 0 && n > 0) { w.frameSkipped(); continue; }
      w.frameOut(stages, true);
      sent++;
    }
    const s = w.take(1000)!;
    expect(sent).toBe(16);
    expect(s.fpsIn).toBe(20);
    expect(s.fpsOut).toBe(sent);
    // Frame 29, the camera's last, arrives: the gaps account for all 30.
    expect(s.dropped).toBe(30 - sent);
  });

  it('counts no upstream misses while the camera rate is unknown, then counts them once it is set', () => {
    const w = new StatsWindow(0);
    for (const n of [0, 4, 8]) w.frameIn(n * interval);
    expect(w.take(1000)!.dropped).toBe(0);
    w.setFrameRate(30);
    w.frameIn(12 * interval);
    expect(w.take(2000)!.dropped).toBe(3);
  });

  it('counts faces per second: every swapped frame where the engine makes each face, only new ones where it reuses them', () => {
    const w = new StatsWindow(0, 30);
    for (let i = 0; i < 30; i++) {
      w.frameIn(i * interval);
      // A generator beside the frames: a new face on one swapped frame in three.
      w.frameOut(i < 15 ? stages : { ...stages, newFace: i % 3 === 0 }, true);
    }
    const s = w.take(1000)!;
    expect(s.fpsOut).toBe(30);
    expect(s.facesPerSecond).toBe(15 + 5);
  });

  it('starts a fresh window after each report', () => {
    const w = new StatsWindow(0, 30);
    w.frameIn(0);
    w.frameIn(interval);
    w.frameOut(stages, true);
    w.take(1000);
    w.frameIn(6 * interval); // four dropped after the report
    const s = w.take(2000)!;
    expect(s.fpsIn).toBe(1);
    expect(s.landmarksMs).toBe(0);
    expect(s.dropped).toBe(4);
    expect(w.take(3000)!.dropped).toBe(0);
  });
});
