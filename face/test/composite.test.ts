// The compositor's pure rules: sampling at the landmarks, smoothing over the
// mesh, the skin model (which must drop hair and frames) and shading gains.
import { describe, expect, it } from 'vitest';
import { faceSkin, sampleAt, shadingGains, shadingKernel, smoothOnMesh, testWeights } from '../src/composite.ts';
import * as mesh from '../src/mesh.ts';

const N = mesh.LANDMARK_COUNT;

/** Per-vertex RGB from a function of the vertex. */
const colours = (f: (v: number) => [number, number, number]) => Float32Array.from({ length: N * 3 }, (_, i) => f(Math.floor(i / 3))[i % 3]!);
const SKIN: [number, number, number] = [205, 160, 135];

describe('face compositor rules', () => {
  it('samples an image bilinearly at points', () => {
    // 2×1 image: black, white.
    const rgba = [0, 0, 0, 255, 255, 255, 255, 255];
    const s = sampleAt(rgba, 2, 1, [0.5, 0.5, 1.5, 0.5, 1, 0.5]);
    expect([s[0], s[3], s[6]]).toEqual([0, 255, 127.5]);
  });

  it('smoothing keeps a constant, and takes zero-weight vertices from their neighbours', () => {
    const flat = colours(() => SKIN);
    const weights = Float32Array.from({ length: N }, (_, v) => (v % 7 ? 1 : 0));
    const marked = colours((v) => (v % 7 ? SKIN : [0, 0, 0]));
    const s = smoothOnMesh(marked, 3, weights, 3);
    for (const v of [0, 7, 14, 100]) expect(Math.abs(s[v * 3]! - SKIN[0])).toBeLessThan(1e-3);
    expect(smoothOnMesh(flat, 3, mesh.skinWeights(), 4)[300]).toBeCloseTo(SKIN[0], 3);
  });

  it('the skin model drops hair over the forehead: expected colour stays skin, skinness falls there', () => {
    // A lock of hair: the mid-forehead vertex (151) and its ring of neighbours.
    const hairy = new Set([...mesh.ringWeights([151], 2)].flatMap((w, v) => (w < 1 ? [v] : [])));
    expect(hairy.size).toBeGreaterThan(4);
    const samples = colours((v) => (hairy.has(v) ? [40, 30, 25] : SKIN));
    const skin = faceSkin(samples);
    for (const v of hairy) {
      expect(skin.skinness[v], `vertex ${v}`).toBeLessThan(0.1);
      expect(Math.abs(skin.expected[v * 3]! - SKIN[0]), `vertex ${v}`).toBeLessThan(12);
    }
    expect(skin.stats.mean[0]).toBeCloseTo(faceSkin(colours(() => SKIN)).stats.mean[0], 1);
  });

  it('shading gains: 1 for the same light, follow the target where its light differs', () => {
    // A face layout: vertices on a grid, lit from the left in the target.
    const xy = Float32Array.from({ length: N * 2 }, (_, i) => (i % 2 ? Math.floor(i / 2 / 22) * 10 : ((i / 2) % 22) * 10));
    const kernel = shadingKernel(xy);
    const lit = colours((v) => { const g = 1.3 - 0.6 * (xy[2 * v]! / 210); return [SKIN[0] * g, SKIN[1] * g, SKIN[2] * g]; });
    const source = faceSkin(colours(() => SKIN));
    const same = shadingGains(source, faceSkin(colours(() => SKIN)), kernel);
    expect(Math.max(...same.map((g) => Math.abs(g - 1)))).toBeLessThan(1e-3);
    const sided = shadingGains(source, faceSkin(lit), kernel);
    const left = [...sided].filter((_, v) => xy[2 * v]! < 50), right = [...sided].filter((_, v) => xy[2 * v]! > 160);
    expect(Math.min(...left)).toBeGreaterThan(Math.max(...right)); // brighter where the target is lit
  });

  it('the skin test is off on the eyes, brows and lips, on elsewhere', () => {
    const w = testWeights();
    expect(w[mesh.leftEye()[0]!]).toBe(0);
    expect(w[mesh.innerLips()[0]!]).toBe(0);
    expect([...w].filter((x) => x === 1).length).toBeGreaterThan(200);
  });
});
