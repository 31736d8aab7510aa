// Identity-level train / validation / test split for the face-swap training
// data. Pure and deterministic: the same identities and seed always give the
// same split, whatever order they come in, and an identity's split depends
// only on its own name and the seed plus how many identities there are, so
// adding a few identities moves few others.

export type Split = 'train' | 'val' | 'test';

export interface SplitOptions {
  /** Any string; changing it reshuffles everything. */
  seed: string;
  /** Fraction of identities held out for test (never seen in training). */
  testFraction?: number;
  /** Fraction of identities held out for validation. */
  valFraction?: number;
  /** Floor on held-out test identities. */
  minTest?: number;
  /** Floor on held-out validation identities. */
  minVal?: number;
  /** Floor on training identities (throws when the floors can't all be met). */
  minTrain?: number;
}

export const SPLIT_DEFAULTS = Object.freeze({
  testFraction: 0.1,
  valFraction: 0.1,
  minTest: 30,
  minVal: 20,
  minTrain: 1,
});

/** 32-bit FNV-1a over the UTF-16 code units, then a murmur-style finalizer. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Split counts for n identities: [test, val, train]. */
export function splitCounts(n: number, options: Omit<SplitOptions, 'seed'> = {}): [number, number, number] {
  const o = { ...SPLIT_DEFAULTS, ...options };
  const test = Math.max(o.minTest, Math.round(o.testFraction * n));
  const val = Math.max(o.minVal, Math.round(o.valFraction * n));
  const train = n - test - val;
  if (train < o.minTrain) {
    throw new RangeError(
      `${n} identities can't give ${test} test + ${val} validation + at least ${o.minTrain} training identities`,
    );
  }
  return [test, val, train];
}

/** Assigns every distinct identity to exactly one split. */
export function splitIdentities(identities: Iterable<string>, options: SplitOptions): Map<string, Split> {
  const unique = [...new Set(identities)];
  const [test, val] = splitCounts(unique.length, options);
  const ranked = unique
    .map((id) => ({ id, key: hash32(`${options.seed}\u0000${id}`) }))
    .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result = new Map<string, Split>();
  ranked.forEach(({ id }, i) => result.set(id, i < test ? 'test' : i < test + val ? 'val' : 'train'));
  return result;
}

/** Union-find over "same person" pairs: every item maps to its group's representative (the smallest name). */
export function groupPairs(items: Iterable<string>, samePairs: Iterable<[string, string]>): Map<string, string> {
  const parent = new Map<string, string>();
  for (const item of items) parent.set(item, item);
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root)! !== root) root = parent.get(root)!;
    while (parent.get(x)! !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  for (const [a, b] of samePairs) {
    if (!parent.has(a) || !parent.has(b)) continue; // a pair naming a missing file links nothing
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) continue;
    // Smallest name is the root, so the representative doesn't depend on pair order.
    if (ra < rb) parent.set(rb, ra);
    else parent.set(ra, rb);
  }
  const result = new Map<string, string>();
  for (const item of parent.keys()) result.set(item, find(item));
  return result;
}
