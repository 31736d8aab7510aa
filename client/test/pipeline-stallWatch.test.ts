import { afterEach, describe, expect, it, vi } from 'vitest';
import { Overdue, StallWatch, withDeadline } from '../src/pipeline/stallWatch.ts';

describe('StallWatch', () => {
  const engineStarting = { reason: 'the idn engine has not started' };

  it('lets frames pass through for a moment, then reports why, once; clears once frames are swapped again', () => {
    const w = new StallWatch(1000);
    expect(w.frame(0, engineStarting)).toBeUndefined();
    expect(w.frame(999, engineStarting)).toBeUndefined();
    const problem = w.frame(1000, engineStarting);
    expect(problem).toMatch(/the idn engine has not started/);
    expect(problem).toMatch(/unswapped/);
    expect(w.frame(1033, engineStarting)).toBeUndefined(); // not again every frame
    expect(w.problem).toBe(problem);
    expect(w.frame(1066, null)).toBeNull();
    expect(w.frame(1100, null)).toBeUndefined();
  });

  it('a pack for the other engine that is never replaced is reported, once, not left silent', () => {
    const w = new StallWatch(15_000);
    const mismatch = { reason: 'the identity was prepared for the idn engine, but the mesh engine is running' };
    const reports = [];
    for (let t = 0; t <= 60_000; t += 33) {
      const r = w.frame(t, mismatch);
      if (r !== undefined) reports.push(r);
    }
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/prepared for the idn engine, but the mesh engine/);
  });

  it('a swapped frame (or nothing to draw) restarts the grace period', () => {
    const w = new StallWatch(1000);
    w.frame(0, engineStarting);
    w.frame(900, null);
    expect(w.frame(1500, engineStarting)).toBeUndefined();
    expect(w.frame(2500, engineStarting)).toMatch(/not started/);
  });

  it('reports an engine that fails or hangs at once, and a new reason as it changes', () => {
    const w = new StallWatch(1000);
    expect(w.frame(0, { reason: 'the idn engine failed on a frame: Session mismatch', urgent: true })).toMatch(/Session mismatch/);
    expect(w.frame(33, { reason: 'the idn engine has not finished a frame in 10 s', urgent: true })).toMatch(/10 s/);
  });
});

describe('withDeadline', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('passes a timely result or error through', async () => {
    await expect(withDeadline(Promise.resolve(3), 1000, 'x')).resolves.toBe(3);
    await expect(withDeadline(5, 1000, 'x')).resolves.toBe(5);
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
  });

  it('rejects with Overdue when the work never settles', async () => {
    vi.useFakeTimers();
    const never = new Promise<number>(() => {});
    const result = withDeadline(never, 10_000, 'the idn engine');
    const check = expect(result).rejects.toThrow(Overdue);
    await vi.advanceTimersByTimeAsync(10_000);
    await check;
    await expect(result).rejects.toThrow('the idn engine did not finish within 10 s');
  });
});
