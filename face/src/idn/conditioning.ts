// IDN conditioning: the source face → its identity pack. identity.onnx embeds
// the face aligned at 224 (the IIM's convention), conditioner.onnx turns that
// into the 18 per-identity tensors the generator takes; a warp-guided model
// (guide_channels 4) also gets the guide source (guide.ts). The app's worker
// runs it on onnxruntime-web and the pack CLI on onnxruntime-node: both
// implement onnxruntime-common's InferenceSession and Tensor, so the runtime
// is passed in.
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Affine } from '../align.ts';
import { rgbaToPlanar } from '../crop.ts';
import { float32ToFloat16Bits, type IdentityPack } from '../pack.ts';
import { checkGuideChannels, guideTensors } from './guide.ts';
import type { IdnModel } from './manifest.ts';
import { idnPackMeta } from './packFit.ts';
import { IDENTITY_TENSORS } from './tensors.ts';

/** The identity encoder's input size: the source face aligned at 224. */
export const IDENTITY_CROP = 224;

/** The runtime's Tensor constructor (`import * as ort from 'onnxruntime-web'` or `'onnxruntime-node'` fits). */
export interface OrtTensors { Tensor: typeof Tensor }

/** The two sessions conditioning runs: identity.onnx and conditioner.onnx of one model folder. */
export interface ConditioningSessions { identity: InferenceSession; conditioner: InferenceSession }

/** The source face, cut at IDENTITY_CROP with crop.ts's drawAligned through `toCrop`. */
export interface AlignedSource {
  rgba: Uint8ClampedArray;
  /** The face's landmarks in the photo's pixels, interleaved x, y, z (a FaceGeometry's points). */
  points: ArrayLike<number>;
  toCrop: Affine;
}

/**
 * The identity pack of `face` for `model`. `meta` is added to the model's
 * (idnPackMeta), which names the model: a pack is valid only for it.
 */
export async function conditionIdentity(
  ort: OrtTensors, sessions: ConditioningSessions, face: AlignedSource, model: IdnModel,
  pack: { label: string; meta?: Record<string, unknown> },
): Promise<IdentityPack> {
  const guideChannels = checkGuideChannels(model.manifest.guide_channels, model.manifest.input_channels);
  const planar = rgbaToPlanar(face.rgba, IDENTITY_CROP, new Float32Array(3 * IDENTITY_CROP * IDENTITY_CROP));
  const { identity, conditioner } = sessions;
  const id = await identity.run({ [identity.inputNames[0]!]: new ort.Tensor('float32', planar, [1, 3, IDENTITY_CROP, IDENTITY_CROP]) });
  const cond = await conditioner.run({
    [conditioner.inputNames[0]!]: id[identity.outputNames[0]!]!,
    [conditioner.inputNames[1]!]: id[identity.outputNames[1]!]!,
  });
  return {
    engine: 'idn',
    label: pack.label,
    createdAt: new Date().toISOString(),
    meta: { ...idnPackMeta(model), ...pack.meta },
    // fp16 halves the pack (about 0.8 MB); the generator gets fp32 back.
    tensors: [
      ...IDENTITY_TENSORS.map((name) => {
        const t = cond[name];
        if (!t) throw new Error(`conditioner.onnx has no output ${name}`);
        return { name, dtype: 'f16' as const, shape: [...t.dims], data: float32ToFloat16Bits(t.data as Float32Array) };
      }),
      // The warp guide's source (150 KB): the same crop and its landmarks.
      ...(guideChannels ? guideTensors(face.rgba, face.points, face.toCrop) : []),
    ],
  };
}
