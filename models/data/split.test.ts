import { describe, expect, it } from 'vitest';
import { groupPairs, hash32, splitCounts, splitIdentities } from './split.ts';

const ids = (n: number, prefix = 'id') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('splitIdentities', () => {
  it('puts every identity in exactly one split with the floors met', () => {
    const all = ids(339);
    const split = splitIdentities(all, { seed: 'faces-v1' });
    expect(split.size).toBe(339);
    const count = (s: string) => [...split.values()].filter((v) => v === s).length;
    expect(count('test')).toBeGreaterThanOrEqual(30);
    expect(count('val')).toBeGreaterThanOrEqual(20);
    expect(count('test') + count('val') + count('train')).toBe(339);
  });

  it('is deterministic and independent of input order and duplicates', () => {
    const all = ids(200);
    const a = splitIdentities(all, { seed: 's' });
    const b = splitIdentities([...all].reverse().concat(all.slice(0, 10)), { seed: 's' });
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  it('reshuffles with another seed', () => {
    const all = ids(200);
    const a = splitIdentities(all, { seed: 's1' });
    const b = splitIdentities(all, { seed: 's2' });
    expect(all.some((id) => a.get(id) !== b.get(id))).toBe(true);
  });

  it('uses the minimums on small sets and refuses impossible ones', () => {
    expect(splitCounts(100)).toEqual([30, 20, 50]);
    expect(splitCounts(1000)).toEqual([100, 100, 800]);
    expect(() => splitCounts(50)).toThrow(RangeError);
  });

  it('hash32 is a stable unsigned 32-bit value', () => {
    expect(hash32('abc')).toBe(hash32('abc'));
    expect(hash32('abc')).not.toBe(hash32('abd'));
    expect(hash32('x')).toBeGreaterThanOrEqual(0);
    expect(hash32('x')).toBeLessThan(2 ** 32);
  });
});

describe('groupPairs', () => {
  it('links transitive pairs to the smallest name and leaves singletons alone', () => {
    const groups = groupPairs(['a', 'b', 'c', 'd', 'e'], [['c', 'b'], ['b', 'e'], ['x', 'd']]);
    expect(groups.get('b')).toBe('b');
    expect(groups.get('c')).toBe('b');
    expect(groups.get('e')).toBe('b');
    expect(groups.get('a')).toBe('a');
    expect(groups.get('d')).toBe('d');
    expect(groups.has('x')).toBe(false);
  });
});
