import { FaceLandmarker } from '@mediapipe/tasks-vision';
import { describe, expect, it } from 'vitest';
import {
  LANDMARK_COUNT,
  faceOval,
  featherWeights,
  fillLoop,
  innerLips,
  leftEye,
  loops,
  rightEye,
  ringWeights,
  skinWeights,
  triangles,
} from '../src/mesh.ts';

// Every loop must be closed: consecutive vertices (and last→first) connected.
function expectClosedLoop(loop: number[], edges: { start: number; end: number }[]) {
  const has = new Set(edges.flatMap(({ start, end }) => [`${start},${end}`, `${end},${start}`]));
  expect(new Set(loop).size).toBe(loop.length);
  loop.forEach((v, i) => expect(has.has(`${v},${loop[(i + 1) % loop.length]}`)).toBe(true));
  expect(loop.length).toBe(edges.length); // a closed loop has as many edges as vertices
}

describe('face mesh topology', () => {
  it('reads 852 triangles from consecutive tessellation triples a→b→c→a', () => {
    const t = FaceLandmarker.FACE_LANDMARKS_TESSELATION;
    expect(t.length).toBe(852 * 3);
    for (let i = 0; i < t.length; i += 3) {
      expect(t[i]!.end).toBe(t[i + 1]!.start);
      expect(t[i + 1]!.end).toBe(t[i + 2]!.start);
      expect(t[i + 2]!.end).toBe(t[i]!.start);
    }
    const tri = triangles();
    expect(tri).toBeInstanceOf(Uint16Array);
    expect(tri.length).toBe(2556);
    expect(Array.from(tri.slice(0, 6))).toEqual([127, 34, 139, 11, 0, 37]);
    expect(Math.max(...tri)).toBe(467);
    expect(new Set(tri).size).toBe(468);
    for (let i = 0; i < tri.length; i += 3) expect(new Set(tri.slice(i, i + 3)).size).toBe(3);
  });

  it('chains the face oval, eyes and inner lips into closed loops', () => {
    expect(faceOval()).toHaveLength(36);
    expect(faceOval()[0]).toBe(10);
    expectClosedLoop(faceOval(), FaceLandmarker.FACE_LANDMARKS_FACE_OVAL);
    expectClosedLoop(leftEye(), FaceLandmarker.FACE_LANDMARKS_LEFT_EYE);
    expectClosedLoop(rightEye(), FaceLandmarker.FACE_LANDMARKS_RIGHT_EYE);
    expect(leftEye()).toContain(263);
    expect(rightEye()).toContain(33);

    const lips = innerLips();
    const expected = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191];
    expect(lips).toHaveLength(20);
    expect(new Set(lips)).toEqual(new Set(expected));
    // Same cyclic order, in one direction or the other.
    const start = expected.indexOf(lips[0]!);
    const fwd = lips.every((v, i) => v === expected[(start + i) % 20]);
    const bwd = lips.every((v, i) => v === expected[(start - i + 20) % 20]);
    expect(fwd || bwd).toBe(true);
  });

  it('splits the lips into an outer and an inner loop', () => {
    const all = loops(FaceLandmarker.FACE_LANDMARKS_LIPS);
    expect(all.map((l) => l.length).sort()).toEqual([20, 20]);
    expect(all.some((l) => l.includes(61) && l.includes(0))).toBe(true);
  });

  it('fills an opening with loop.length - 2 triangles using only its vertices', () => {
    for (const loop of [leftEye(), rightEye(), innerLips()]) {
      const tri = fillLoop(loop);
      expect(tri.length).toBe((loop.length - 2) * 3);
      expect(tri.every((v) => loop.includes(v))).toBe(true);
      // Every loop edge appears in exactly one fill triangle.
      const edges = new Map<string, number>();
      for (let i = 0; i < tri.length; i += 3) {
        for (let k = 0; k < 3; k++) {
          const a = tri[i + k]!, b = tri[i + ((k + 1) % 3)]!;
          const key = a < b ? `${a},${b}` : `${b},${a}`;
          edges.set(key, (edges.get(key) ?? 0) + 1);
        }
      }
      loop.forEach((a, i) => {
        const b = loop[(i + 1) % loop.length]!;
        expect(edges.get(a < b ? `${a},${b}` : `${b},${a}`)).toBe(1);
      });
    }
  });

  it('feathers from 0 on the oval to 1 three rings deep', () => {
    const w = featherWeights();
    expect(w).toHaveLength(LANDMARK_COUNT);
    for (const v of faceOval()) expect(w[v]).toBe(0);
    const values = new Set(Array.from(w, (x) => Math.round(x * 3)));
    expect(values).toEqual(new Set([0, 1, 2, 3]));
    expect(w[1]).toBe(1); // nose tip
    expect(w[4]).toBe(1);
    for (let i = 468; i < LANDMARK_COUNT; i++) expect(w[i]).toBe(1); // iris: not in the tessellation
    // Neighbours differ by at most one ring.
    const t = triangles();
    for (let i = 0; i < t.length; i += 3) {
      const ws = [w[t[i]!]!, w[t[i + 1]!]!, w[t[i + 2]!]!];
      expect(Math.max(...ws) - Math.min(...ws)).toBeLessThanOrEqual(1 / 3 + 1e-6);
    }
  });

  it('ringWeights is 0 on seeds and 1 beyond the given rings', () => {
    const w = ringWeights(innerLips(), 2);
    for (const v of innerLips()) expect(w[v]).toBe(0);
    expect(w[10]).toBe(1); // forehead
    expect(Array.from(w).filter((x) => x === 0.5).length).toBeGreaterThan(0);
  });

  it('skin weights exclude the outline, eyes, brows and lips but keep cheeks and nose', () => {
    const w = skinWeights();
    expect(w).toHaveLength(LANDMARK_COUNT);
    for (const v of [...faceOval(), ...leftEye(), ...rightEye(), ...innerLips(), 61, 291, 0, 17]) expect(w[v]).toBe(0);
    for (const v of [1, 4, 5, 195]) expect(w[v]).toBe(1); // nose
    expect(w[205]! + w[425]!).toBeGreaterThan(1); // cheeks
    const inside = Array.from(w.subarray(0, 468)).filter((x) => x >= 0.5).length;
    expect(inside).toBeGreaterThan(60);
    expect(inside).toBeLessThan(300);
  });
});
