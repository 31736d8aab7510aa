import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topology, topologyPath } from './exportTopology.ts';

describe('face_topology.json', () => {
  it('is exactly the app mesh topology (re-run exportTopology.ts if this fails)', () => {
    const stored = JSON.parse(readFileSync(topologyPath, 'utf8'));
    const live = topology();
    expect(stored).toEqual(live);
    expect(live.triangles.length).toBe(852 * 3);
    expect(live.innerLips.length).toBeGreaterThan(10);
  });
});
