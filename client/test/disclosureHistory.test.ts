import { describe, expect, it } from 'vitest';
import { DisclosureHistory } from '../src/call/disclosureHistory.ts';

describe('DisclosureHistory', () => {
  it('remembers for the rest of the call that a peer\'s video was once synthetic', () => {
    const h = new DisclosureHistory();
    expect(h.wasSynthetic('a')).toBe(false);
    h.note('a', { source: 'camera', synthetic: false });
    expect(h.wasSynthetic('a')).toBe(false);
    h.note('a', { source: 'camera', synthetic: true, identityLabel: 'astronaut' });
    // Switching the swap off does not wipe it.
    h.note('a', { source: 'camera', synthetic: false });
    expect(h.wasSynthetic('a')).toBe(true);
    expect(h.wasSynthetic('b')).toBe(false);
    h.clear();
    expect(h.wasSynthetic('a')).toBe(false);
  });

  it('counts only the camera', () => {
    const h = new DisclosureHistory();
    // The schema forbids a synthetic mic, but the history does not rely on it.
    h.note('a', { source: 'mic', synthetic: true });
    expect(h.wasSynthetic('a')).toBe(false);
  });
});
