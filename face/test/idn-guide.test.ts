// The warp-guided IDN's extras: which models the engine accepts, the canvas
// half-pixel convention its crops rely on, and the guide tensors in a pack.
import { describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, type Affine } from '../src/align.ts';
import { canvasAffine } from '../src/crop.ts';
import { checkGuideChannels, GUIDE_FACE, GUIDE_LANDMARKS, guideSource, guideTensors, landmarksToCrop } from '../src/idn/guide.ts';
import { IDENTITY_TENSORS } from '../src/idn/tensors.ts';
import { decodePack, encodePack, float32ToFloat16Bits, PackError, type IdentityPack, type PackTensor } from '../src/pack.ts';
import { mulberry32 } from './random.ts';

const toCrop: Affine = [0.5, -0.1, -20, 0.1, 0.5, -30];

function identityTensors(): PackTensor[] {
  return IDENTITY_TENSORS.map((name) => ({ name, dtype: 'f16', shape: [2, 3], data: float32ToFloat16Bits(new Float32Array(6).fill(0.25)) }));
}

function guidedPack(): { pack: IdentityPack; rgba: Uint8ClampedArray; points: Float32Array } {
  const rand = mulberry32(7);
  const rgba = Uint8ClampedArray.from({ length: 224 * 224 * 4 }, () => Math.floor(rand() * 256));
  const points = Float32Array.from({ length: 478 * 3 }, () => 100 + rand() * 300);
  const pack = { engine: 'idn', label: 'Ada', createdAt: '2026-11-28T00:00:00Z', meta: { crop: 128, guide_channels: 4 }, tensors: [...identityTensors(), ...guideTensors(rgba, points, toCrop)] };
  return { pack, rgba, points };
}

describe('checkGuideChannels', () => {
  it('accepts the 3-channel and the warp-guided model', () => {
    expect(checkGuideChannels(0)).toBe(0);
    expect(checkGuideChannels(4, 7)).toBe(4);
    expect(checkGuideChannels(0, 3)).toBe(0);
  });

  it('refuses other guides, by name, and inconsistent manifests', () => {
    for (const g of [1, 3, 5, '4', null, undefined]) expect(() => checkGuideChannels(g)).toThrow(/guide_channels 0\) and the warp-guided one \(guide_channels 4\); the model has guide_channels/);
    expect(() => checkGuideChannels(4, 3)).toThrow(/input_channels 3 \(expected 7\)/);
  });
});

describe('canvasAffine', () => {
  it('maps pixel centres as a canvas places them (i + 0.5) where the OpenCV-convention affine maps them (i)', () => {
    for (const p of [[0, 0], [10.5, -3], [223, 224]] as [number, number][]) {
      const [x, y] = applyAffine(canvasAffine(toCrop), [p[0] + 0.5, p[1] + 0.5]);
      const [ex, ey] = applyAffine(toCrop, p);
      expect(x).toBeCloseTo(ex + 0.5, 10);
      expect(y).toBeCloseTo(ey + 0.5, 10);
    }
    // The paste-back's transform is still the crop's inverse on the canvas.
    const round = applyAffine(canvasAffine(invertAffine(toCrop)), applyAffine(canvasAffine(toCrop), [17, 40]));
    expect(round[0]).toBeCloseTo(17, 9);
    expect(round[1]).toBeCloseTo(40, 9);
    expect(canvasAffine([1, 0, 5, 0, 1, -2])).toEqual([1, 0, 5, 0, 1, -2]); // a translation needs no shift
  });
});

describe('the guide in an identity pack', () => {
  it('round-trips the source crop exactly (uint8 RGB) and its landmarks in crop pixels (float32)', () => {
    const { pack, rgba, points } = guidedPack();
    const bytes = encodePack(pack);
    const g = guideSource(decodePack(bytes));
    expect(g.image).toMatchObject({ width: 224, height: 224, channels: 3 });
    for (let i = 0; i < 224 * 224; i += 97) for (let c = 0; c < 3; c++) expect(g.image.data[i * 3 + c]).toBe(rgba[i * 4 + c]);
    const expected = landmarksToCrop(points, toCrop, new Float64Array(478 * 2));
    g.landmarks.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    expect(g.landmarks[0]).toBeCloseTo(applyAffine(toCrop, [points[0]!, points[1]!])[0], 4);
    // What it adds to a pack: 224·224·3 bytes plus 478·2 floats.
    const plain = encodePack({ ...pack, tensors: identityTensors() });
    expect(bytes.length - plain.length).toBeLessThan(224 * 224 * 3 + 478 * 8 + 300);
  });

  it('refuses a pack without the guide with a message saying what to do', () => {
    const plain = { engine: 'idn', label: 'Ada', createdAt: '', meta: {}, tensors: identityTensors() };
    expect(() => guideSource(plain)).toThrow(PackError);
    expect(() => guideSource(plain)).toThrow(/"Ada" was prepared for a model without the warp guide.*choose its photo again/);
  });

  it('refuses guide tensors of the wrong dtype, shape or values', () => {
    const { pack } = guidedPack();
    const swap = (name: string, t: Partial<PackTensor>) => ({ ...pack, tensors: pack.tensors.map((x) => (x.name === name ? { ...x, ...t } : x)) });
    expect(() => guideSource(swap(GUIDE_FACE, { dtype: 'f16', data: new Uint16Array(224 * 224 * 3) }))).toThrow(/"guide_face" is f16, expected u8/);
    expect(() => guideSource(swap(GUIDE_FACE, { shape: [224, 224, 4], data: new Uint8Array(224 * 224 * 4) }))).toThrow(/shape \[224, 224, 4\], expected \[224, 224, 3\]/);
    expect(() => guideSource(swap(GUIDE_FACE, { shape: [3, 224, 224] }))).toThrow(/expected \[224, 224, 3\]/);
    expect(() => guideSource({ ...pack, tensors: pack.tensors.filter((t) => t.name !== GUIDE_LANDMARKS) })).toThrow(/no tensor "guide_landmarks"/);
    const nan = new Float32Array(478 * 2); nan[5] = NaN;
    expect(() => guideSource(swap(GUIDE_LANDMARKS, { data: nan }))).toThrow(/non-finite/);
  });

  it('refuses a crop of the wrong size when the pack is made', () => {
    expect(() => guideTensors(new Uint8ClampedArray(128 * 128 * 4), new Float32Array(478 * 3), toCrop)).toThrow(/224×224 RGBA/);
    expect(() => guideTensors(new Uint8ClampedArray(224 * 224 * 4), new Float32Array(468 * 3), toCrop)).toThrow(/need 478 landmarks/);
  });
});
