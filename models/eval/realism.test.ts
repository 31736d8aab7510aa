// Each realism metric must rise (or, for the occluder, fall) when its defect is planted.
import { describe, expect, it } from 'vitest';
import { boundaryRing, changedRegion, erode, fillHoles, flickerRatio, FlickerMeter, lightingScore, lumaOf, occluderKept, polygonMask, seamScore, type Luma, type Mask } from './realism.ts';

const W = 96, H = 96;

/** A deterministic textured frame: smooth shading plus fine detail, shifted by `t` pixels. */
function frame(t = 0, shade: (x: number, y: number) => number = () => 0): Luma {
  const data = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data[y * W + x] = 110 + 30 * Math.sin((x + t) / 7) * Math.cos(y / 9) + shade(x, y);
  }
  return { width: W, height: H, data };
}

/** An ellipse: the pasted face. */
function faceMask(): Mask {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = ((x - 48) / 30) ** 2 + ((y - 50) / 38) ** 2 <= 1 ? 1 : 0;
  return { width: W, height: H, data };
}

/** `base` with `patch` pasted through the mask, feathered over `feather` px (0: a hard edge). */
function paste(base: Luma, patch: Luma, mask: Mask, feather: number): Luma {
  const data = Float32Array.from(base.data);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      // Distance inside the ellipse, in its own units, turned into a 0..1 weight.
      const r = Math.sqrt(((x - 48) / 30) ** 2 + ((y - 50) / 38) ** 2);
      const a = feather === 0 ? mask.data[i]! : Math.min(1, Math.max(0, (1 - r) * 30 / feather));
      data[i] = base.data[i]! * (1 - a) + patch.data[i]! * a;
    }
  }
  return { width: W, height: H, data };
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('realism metrics', () => {
  const face = faceMask();

  it('converts RGBA to luma', () => {
    const l = lumaOf([255, 255, 255, 255, 0, 0, 0, 255], 2, 1);
    expect(l.data[0]).toBeCloseTo(255, 3);
    expect(l.data[1]).toBe(0);
  });

  it('rings the mask edge on both sides', () => {
    const ring = boundaryRing(face, 2);
    const n = ring.data.reduce((a, b) => a + b, 0);
    expect(n).toBeGreaterThan(0);
    expect(ring.data[50 * W + 48]).toBe(0); // the face's centre is far from its edge
    expect(ring.data[50 * W + 18]).toBe(1); // on the edge
  });

  it('seam: near 0 for an unchanged frame, rises for a brighter patch with a hard edge, less when feathered', () => {
    const original = frame();
    const brighter = frame(0, () => 45);
    const none = seamScore(original, original, face);
    const hard = seamScore(paste(original, brighter, face, 0), original, face);
    const soft = seamScore(paste(original, brighter, face, 10), original, face);
    expect(none).toBe(0);
    expect(hard).toBeGreaterThan(0.5);
    expect(soft).toBeLessThan(hard / 2);
  });

  it("lighting: low when the swap keeps the target's shading, high when it brings the photo's", () => {
    const target = frame(0, (x) => (x - 48) * 1.5); // lit from the right
    const kept = frame(3, (x) => (x - 48) * 1.5); // other detail, same light
    const carried = frame(3, (x) => (48 - x) * 1.5); // lit from the left, as the photo was
    const good = lightingScore(kept, target, face, 12);
    const bad = lightingScore(carried, target, face, 12);
    expect(good).toBeLessThan(0.2);
    expect(bad).toBeGreaterThan(1.5);
  });

  it('flicker: 1 for the original itself, above 2 with per-frame brightness jitter inside the face', () => {
    const original = Array.from({ length: 12 }, (_, t) => frame(t * 0.5));
    const rand = seeded(7);
    const jittered = original.map((f) => {
      const j = (rand() - 0.5) * 20;
      return { ...f, data: f.data.map((v, i) => (face.data[i] ? v + j : v)) };
    });
    expect(flickerRatio(original, original, face)).toBeCloseTo(1, 6);
    expect(flickerRatio(jittered, original, face)).toBeGreaterThan(2);
  });

  it("occlusion: all of the target's glasses kept when the swap leaves them, few when it paints over them", () => {
    const glasses: Mask = { width: W, height: H, data: new Uint8Array(W * H) };
    for (let y = 38; y < 42; y++) for (let x = 24; x < 72; x++) glasses.data[y * W + x] = 1;
    const target = frame(0, (x, y) => (glasses.data[y * W + x] ? -90 : 0));
    const kept = paste(target, frame(2), { ...face, data: face.data.map((v, i) => (glasses.data[i] ? 0 : v)) }, 0);
    const erased = paste(target, frame(2), face, 0);
    expect(occluderKept(kept, target, glasses)).toBe(1);
    expect(occluderKept(erased, target, glasses)).toBeLessThan(0.1);
  });
});

describe('realism helpers', () => {
  it("changedRegion: the pasted patch's area, not sensor noise", () => {
    const original = frame();
    const rand = seeded(3);
    const noisy = { ...original, data: original.data.map((v) => v + (rand() - 0.5) * 6) };
    expect(changedRegion(noisy, original).data.reduce((a, b) => a + b, 0)).toBe(0);
    const pasted = paste(original, frame(0, () => 40), faceMask(), 0);
    const region = changedRegion(pasted, original);
    expect(region.data[50 * W + 48]).toBe(1);
    expect(region.data[2 * W + 2]).toBe(0);
    // A hard paste with the region from the difference scores a seam; the same paste feathered scores less.
    const soft = paste(original, frame(0, () => 40), faceMask(), 10);
    expect(seamScore(pasted, original, region)).toBeGreaterThan(2 * seamScore(soft, original, changedRegion(soft, original)));
  });

  it('polygonMask fills a square and nothing outside it', () => {
    const m = polygonMask([10, 10, 30, 10, 30, 20, 10, 20], 40, 40);
    expect(m.data.reduce((a, b) => a + b, 0)).toBe(20 * 10);
    expect(m.data[15 * 40 + 20]).toBe(1);
    expect(m.data[25 * 40 + 20]).toBe(0);
  });

  it('FlickerMeter: 1 for the original, higher with brightness jitter, skips frames with no face', () => {
    const face = faceMask();
    const original = Array.from({ length: 10 }, (_, t) => frame(t * 0.5));
    const rand = seeded(11);
    const steady = new FlickerMeter(), jittery = new FlickerMeter();
    original.forEach((f, t) => {
      const j = (rand() - 0.5) * 20;
      steady.push(f, f, t === 4 ? null : face);
      jittery.push({ ...f, data: f.data.map((v, i) => (face.data[i] ? v + j : v)) }, f, face);
    });
    expect(steady.ratio).toBeCloseTo(1, 6);
    expect(jittery.ratio).toBeGreaterThan(2);
    expect(new FlickerMeter().ratio).toBeNaN();
  });
});

describe('changed region shape', () => {
  it('fills holes and erodes back to the pasted edge', () => {
    const m: Mask = { width: 20, height: 20, data: new Uint8Array(400) };
    for (let y = 4; y < 16; y++) for (let x = 4; x < 16; x++) m.data[y * 20 + x] = x >= 8 && x < 12 && y >= 8 && y < 12 ? 0 : 1;
    const filled = fillHoles(m);
    expect(filled.data[10 * 20 + 10]).toBe(1);
    expect(filled.data[1 * 20 + 1]).toBe(0);
    const eroded = erode(filled, 1);
    expect(eroded.data.reduce((a, b) => a + b, 0)).toBe(10 * 10);
  });
});
