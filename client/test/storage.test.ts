import { describe, expect, it } from 'vitest';
import { loadDisplayName, saveDisplayName } from '../src/app/storage.ts';

describe('display name storage', () => {
  it('round-trips through the given storage', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
    expect(loadDisplayName(storage)).toBeNull();
    saveDisplayName('Ada', storage);
    expect(loadDisplayName(storage)).toBe('Ada');
  });

  it('survives storage that throws or is missing', () => {
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
    expect(loadDisplayName(broken)).toBeNull();
    expect(() => saveDisplayName('Ada', broken)).not.toThrow();
    expect(loadDisplayName(undefined)).toBeNull();
  });
});
