import { describe, expect, it } from 'vitest';
import { StatsWindow } from '../src/pipeline/stats.ts';

const stages = { landmarksMs: 20, engineMs: 10, pasteMs: 5 };

describe('StatsWindow', () => {
  it('reports nothing until a second has passed', () => {
    const w = new StatsWindow(0);
    w.frameIn(0);
    w.frameOut(stages, true);
    expect(w.take(999)).toBeNull();
    expect(w.take(1000)).not.toBeNull();
  });

  it('counts fps in and out and averages the stages over swapped frames only', () => {
    const w = new StatsWindow(0);
    for (let i = 0; i < 30; i++) {
      w.frameIn(i * 33_333);
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

  it('estimates frames dropped upstream from gaps in the camera timestamps', () => {
    const w = new StatsWindow(0);
    const interval = 33_333;
    // Frames 0,1,2 arrive, then 3 and 4 are dropped, then 5, then 6..8 are dropped, then 9.
    for (const n of [0, 1, 2, 5, 9]) w.frameIn(n * interval);
    expect(w.take(1000)!.dropped).toBe(5);
  });

  it('starts a fresh window after each report', () => {
    const w = new StatsWindow(0);
    w.frameIn(0);
    w.frameIn(33_333);
    w.frameOut(stages, true);
    w.take(1000);
    w.frameIn(6 * 33_333); // four dropped after the report
    const s = w.take(2000)!;
    expect(s.fpsIn).toBe(1);
    expect(s.landmarksMs).toBe(0);
    expect(s.dropped).toBe(4);
    expect(w.take(3000)!.dropped).toBe(0);
  });
});
