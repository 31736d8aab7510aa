// What the warp-guided IDN (manifest guide_channels = 4) needs beyond the
// 3-channel one: per identity, the source face aligned at 224 and its 478
// landmarks in that crop (two extra pack tensors); per frame, that face warped
// onto the target's landmarks in the target crop (face/triangleWarp.ts), fed
// as channels 3-5 of the generator's `target` input, with the warp's coverage
// mask as channel 6. The definition is models/teacher/warp.py's.
import type { Affine } from '../align.ts';
import { LANDMARK_COUNT } from '../mesh.ts';
import type { WarpImage } from '../triangleWarp.ts';
import { PackError, tensorOf, type IdentityPack, type PackTensor } from '../pack.ts';

/** The guide's source: RGB uint8 [224, 224, 3], the same aligned crop the identity encoder gets. */
export const GUIDE_FACE = 'guide_face';
/** The source's landmarks in that crop's pixels (OpenCV convention): float32 [478, 2]. */
export const GUIDE_LANDMARKS = 'guide_landmarks';
export const GUIDE_CROP = 224;

/** Throws unless the model's guide is one this build feeds: none (3-channel IDN) or the warp guide (RGB + mask). */
export function checkGuideChannels(guideChannels: unknown, inputChannels?: unknown): 0 | 4 {
  if (guideChannels !== 0 && guideChannels !== 4) {
    throw new Error(`this build runs the 3-channel IDN (guide_channels 0) and the warp-guided one (guide_channels 4); the model has guide_channels ${JSON.stringify(guideChannels)}`);
  }
  if (inputChannels !== undefined && inputChannels !== 3 + guideChannels) {
    throw new Error(`the model's manifest is inconsistent: guide_channels ${guideChannels} but input_channels ${JSON.stringify(inputChannels)} (expected ${3 + guideChannels})`);
  }
  return guideChannels;
}

/** Interleaved x, y, z frame pixels → interleaved x, y crop pixels through `toCrop`, into `out` (no allocation). */
export function landmarksToCrop(points: ArrayLike<number>, toCrop: Affine, out: Float64Array): Float64Array {
  const [a, b, tx, c, d, ty] = toCrop;
  const n = out.length / 2;
  if (points.length < 3 * n) throw new RangeError(`need ${n} landmarks, got ${Math.floor(points.length / 3)}`);
  for (let i = 0; i < n; i++) {
    const x = points[i * 3]!, y = points[i * 3 + 1]!;
    out[i * 2] = a * x + b * y + tx;
    out[i * 2 + 1] = c * x + d * y + ty;
  }
  return out;
}

/**
 * The pack tensors of the guide: the aligned 224 crop as the canvas drew it
 * (RGBA, alpha dropped) and the source's landmarks (frame pixels, x, y, z)
 * mapped into it. uint8 keeps the crop exact at a quarter of float32's size.
 */
export function guideTensors(cropRgba: Uint8ClampedArray, points: ArrayLike<number>, toCrop: Affine): PackTensor[] {
  const plane = GUIDE_CROP * GUIDE_CROP;
  if (cropRgba.length !== plane * 4) throw new RangeError(`the guide crop must be ${GUIDE_CROP}×${GUIDE_CROP} RGBA, got ${cropRgba.length} values`);
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    rgb[i * 3] = cropRgba[i * 4]!;
    rgb[i * 3 + 1] = cropRgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = cropRgba[i * 4 + 2]!;
  }
  const landmarks = Float32Array.from(landmarksToCrop(points, toCrop, new Float64Array(LANDMARK_COUNT * 2)));
  return [
    { name: GUIDE_FACE, dtype: 'u8', shape: [GUIDE_CROP, GUIDE_CROP, 3], data: rgb },
    { name: GUIDE_LANDMARKS, dtype: 'f32', shape: [LANDMARK_COUNT, 2], data: landmarks },
  ];
}

export interface GuideSource {
  image: WarpImage & { data: Uint8Array };
  /** Interleaved x, y in the source crop's pixels. */
  landmarks: Float64Array;
}

/**
 * The guide source a pack carries, checked strictly (names, dtypes, shapes,
 * finite landmarks). A pack made for a 3-channel model has none: it is refused
 * with a message saying so.
 */
export function guideSource(pack: IdentityPack): GuideSource {
  if (!pack.tensors.some((t) => t.name === GUIDE_FACE)) {
    throw new PackError('bad_header', `the identity "${pack.label}" was prepared for a model without the warp guide (its pack has no ${GUIDE_FACE}); choose its photo again`);
  }
  const face = tensorOf(pack, GUIDE_FACE, 'u8', [GUIDE_CROP, GUIDE_CROP, 3]);
  const lm = tensorOf(pack, GUIDE_LANDMARKS, 'f32', [LANDMARK_COUNT, 2]);
  const landmarks = Float64Array.from(lm.data);
  if (!landmarks.every(Number.isFinite)) throw new PackError('bad_header', `identity pack tensor "${GUIDE_LANDMARKS}" has non-finite coordinates`);
  return { image: { data: face.data, width: GUIDE_CROP, height: GUIDE_CROP, channels: 3 }, landmarks };
}
