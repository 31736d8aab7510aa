import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from '../src/signaling/payloadDepth.ts';

describe('nestedDeeperThan', () => {
  const nest = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  it('counts objects and arrays, not scalars', () => {
    expect(nestedDeeperThan(1, 0)).toBe(false);
    expect(nestedDeeperThan(nest(3), 3)).toBe(false);
    expect(nestedDeeperThan(nest(4), 3)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: [1, 2, { c: 'x' }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: 1, b: [1, 2, { c: {} }] }, 3)).toBe(true);
  });
  it('walks a million levels without overflowing the stack', () => {
    expect(nestedDeeperThan(nest(1_000_000), 16)).toBe(true);
  });
});
