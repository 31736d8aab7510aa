// The face-recognition judge of the quality eval and the browser tests: a
// 512-d embedding of a face aligned to the ArcFace 112×112 template, from an
// ONNX model (faceplugin-face-recognition-js) run under onnxruntime-node. It
// judges the app's output and never ships with the app.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

/** The judge's input size: an aligned square crop, cut with the face package's drawAligned. */
export const JUDGE_CROP = 112;

const require = createRequire(import.meta.url);
const modelPath = path.join(path.dirname(require.resolve('faceplugin-face-recognition-js/package.json')), 'model/fr_feature.onnx');
let session: Promise<ort.InferenceSession> | undefined;

/** The model's input: the aligned RGB crop, NCHW, normalised as the model was trained. */
function toInput(rgba: Uint8ClampedArray, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let ch = 0; ch < 3; ch++) out[ch * size * size + i] = (rgba[i * 4 + ch]! - 127) / 128;
  }
  return out;
}

/** Embeds one aligned JUDGE_CROP² RGBA crop: a unit-length 512-d vector. */
export async function embed(face: { crop: Uint8ClampedArray }): Promise<Float32Array> {
  session ??= ort.InferenceSession.create(modelPath);
  const s = await session;
  const input = new ort.Tensor('float32', toInput(face.crop, JUDGE_CROP), [1, 3, JUDGE_CROP, JUDGE_CROP]);
  const out = await s.run({ [s.inputNames[0]!]: input });
  const v = out[s.outputNames[0]!]!.data as Float32Array;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
