import { describe, expect, it } from 'vitest';
import { FRAME_BUDGET, LandmarkCadence, MAX_LANDMARKS_EVERY } from '../src/pipeline/worker/landmarkCadence.ts';

/** Runs `frames` frames at the cadence's choice, with fixed stage times; returns which frames ran the landmarker. */
function run(c: LandmarkCadence, frames: number, landmarksMs: number, restMs: number): boolean[] {
  const ran: boolean[] = [];
  for (let i = 0; i < frames; i++) {
    const track = c.trackNow();
    ran.push(track);
    c.frameDone(track ? landmarksMs : null, restMs);
  }
  return ran;
}

describe('LandmarkCadence', () => {
  it('runs the landmarker on every frame while the whole frame fits the budget', () => {
    const c = new LandmarkCadence(30);
    expect(run(c, 60, 12, 8).every(Boolean)).toBe(true);
    expect(c.every).toBe(1);
  });

  it('drops the landmark rate, not the output rate, when landmarks + the rest overrun the frame', () => {
    const c = new LandmarkCadence(30); // 33.3 ms a frame, 26.7 ms of budget
    const ran = run(c, 60, 20, 12); // 32 ms every frame; 12 + 20/2 = 22 fits
    expect(c.every).toBe(2);
    const tail = ran.slice(-20);
    expect(tail.filter(Boolean).length).toBe(10); // every other frame
    expect(tail.some((r, i) => r && tail[i + 1])).toBe(false);
  });

  it('goes as far as its maximum and no further, however slow', () => {
    const c = new LandmarkCadence(30);
    const ran = run(c, 60, 80, 40);
    expect(c.every).toBe(MAX_LANDMARKS_EVERY);
    expect(ran.slice(-30).filter(Boolean).length).toBe(30 / MAX_LANDMARKS_EVERY);
  });

  it('returns to every frame when the load goes, with room to spare rather than at the edge', () => {
    const c = new LandmarkCadence(30);
    run(c, 30, 20, 12);
    expect(c.every).toBe(2);
    // 8 + 17 = 25 ms would fit the budget, but not with room: it stays.
    run(c, 60, 17, 8);
    expect(c.every).toBe(2);
    run(c, 60, 8, 6); // 14 ms: plenty of room
    expect(c.every).toBe(1);
  });

  it('runs the landmarker on the next frame after a restart, whatever the cadence', () => {
    const c = new LandmarkCadence(30);
    run(c, 30, 20, 12);
    c.frameDone(20, 12); // just ran
    expect(c.trackNow()).toBe(false);
    c.restart();
    expect(c.trackNow()).toBe(true);
  });

  it('budgets by the camera frame rate', () => {
    const slowCamera = new LandmarkCadence(15); // 66.7 ms a frame
    run(slowCamera, 30, 20, 12);
    expect(slowCamera.every).toBe(1);
    const fastCamera = new LandmarkCadence(60); // 16.7 ms a frame
    run(fastCamera, 30, 12, 6);
    expect(12 + 6).toBeGreaterThan(FRAME_BUDGET * 1000 / 60);
    expect(fastCamera.every).toBe(2);
  });
});
