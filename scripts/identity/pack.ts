// `pnpm identity pack photo.jpg`: builds an identity pack offline, on
// onnxruntime-node, from the same models and the same steps as the browser:
// FaceLandmarker (in headless Chromium: tasks-vision runs only in a browser)
// finds exactly one face, the ArcFace 5-point alignment crops it at 224 (drawn
// by the canvas through the app's crop.ts, in OpenCV's pixel convention), and
// identity.onnx + conditioner.onnx produce the 18 per-identity tensors. For a
// warp-guided model (guide_channels 4) the pack also carries the guide source
// (guide.ts). The pack names its model, as the app's do (packFit.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { canvasAffine, rgbaToPlanar } from '@guise/face/crop';
import { checkGuideChannels, guideTensors } from '@guise/face/idn/guide';
import { parseIdnManifest } from '@guise/face/idn/manifest';
import { idnPackMeta } from '@guise/face/idn/packFit';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { alignmentFor, type Affine } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { encodePack, float32ToFloat16Bits } from '@guise/face/pack';
import { faceBoxes, mimeOf, openLandmarkerPage } from '../face/headlessLandmarker.ts';
import { checkFaces, checkPhotoDimensions, checkPhotoFile, type PhotoProblem } from '@guise/face/photo';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CROP = 224;

export class PackProblem extends Error {
  constructor(readonly problem: PhotoProblem) { super(problem.message); }
}

/** The model folder to use: the one given, else a converted or trained model in models/idn. */
export function findModel(given?: string): string {
  const candidates = given ? [given] : ['official-224', 'trained-128-guided', 'trained-128-faithful'].map((d) => path.join(root, 'models/idn', d));
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'identity.onnx')) && fs.existsSync(path.join(d, 'conditioner.onnx')));
  if (!found) {
    throw new Error(given
      ? `${given} has no identity.onnx and conditioner.onnx`
      : 'no MobileFaceSwap model in models/idn: convert the official checkpoint (models/convert_official) or pass --model DIR');
  }
  return found;
}

export interface AlignedFace {
  /** The aligned 224 crop, RGBA. */
  rgba: Uint8ClampedArray;
  /** The face's landmarks in the photo's pixels, interleaved x, y, z (as the app's worker has them). */
  points: Float32Array;
  toCrop: Affine;
}

/** FaceLandmarker on the photo in headless Chromium; returns the aligned 224 crop of its one face. */
export async function alignedFace(photo: string): Promise<AlignedFace> {
  const { page, close } = await openLandmarkerPage((key) => (key === 'photo' ? photo : undefined), 4);
  try {
    const found = await page.evaluate(async () => {
      let bitmap: ImageBitmap;
      try { bitmap = await createImageBitmap(await (await fetch('/img/photo')).blob()); } catch { return null; }
      (window as unknown as { photo: ImageBitmap }).photo = bitmap;
      const faces = (window as any).landmarker.detect(bitmap).faceLandmarks as { x: number; y: number; z: number }[][];
      return { width: bitmap.width, height: bitmap.height, faces: faces.map((f) => f.map((p) => ({ x: p.x, y: p.y, z: p.z }))) };
    });
    if (!found) throw new PackProblem({ code: 'undecodable', message: `${path.basename(photo)} could not be opened as an image.` });
    const problem = checkPhotoDimensions(found.width, found.height) ?? checkFaces(faceBoxes(found.faces, found.width, found.height), found.width, found.height);
    if (problem) throw new PackProblem(problem);
    const face = found.faces[0]!;
    const { toCrop } = alignmentFor(fivePoints(face, found.width, found.height), CROP);
    // As crop.ts's setAffine: the canvas transform of canvasAffine(toCrop).
    const rgba = await page.evaluate(([m, size]) => {
      const c = new OffscreenCanvas(size, size);
      const ctx = c.getContext('2d', { willReadFrequently: true })!;
      ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
      ctx.drawImage((window as unknown as { photo: ImageBitmap }).photo, 0, 0);
      return Array.from(ctx.getImageData(0, 0, size, size).data);
    }, [canvasAffine(toCrop), CROP] as const);
    // The worker's FaceGeometry: pixels, z in x's scale.
    const points = Float32Array.from(face.flatMap((p) => [p.x * found.width, p.y * found.height, p.z * found.width]));
    return { rgba: Uint8ClampedArray.from(rgba), points, toCrop };
  } finally {
    await close();
  }
}

export async function packPhoto(photo: string, opts: { model?: string; label?: string } = {}): Promise<Uint8Array> {
  const stat = fs.statSync(photo, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new Error(`no such file: ${photo}`);
  const fileProblem = checkPhotoFile({ type: mimeOf(photo), size: stat.size, name: path.basename(photo) });
  if (fileProblem) throw new PackProblem(fileProblem);
  const model = findModel(opts.model);
  const idn = await parseIdnManifest(fs.readFileSync(path.join(model, 'manifest.json')));
  const guideChannels = checkGuideChannels(idn.manifest.guide_channels, idn.manifest.input_channels);
  const aligned = await alignedFace(photo);
  const face = rgbaToPlanar(aligned.rgba, CROP, new Float32Array(3 * CROP * CROP));
  const identity = await ort.InferenceSession.create(path.join(model, 'identity.onnx'));
  const conditioner = await ort.InferenceSession.create(path.join(model, 'conditioner.onnx'));
  const id = await identity.run({ [identity.inputNames[0]!]: new ort.Tensor('float32', face, [1, 3, CROP, CROP]) });
  const cond = await conditioner.run({
    [conditioner.inputNames[0]!]: id[identity.outputNames[0]!]!,
    [conditioner.inputNames[1]!]: id[identity.outputNames[1]!]!,
  });
  return encodePack({
    engine: 'idn',
    label: opts.label ?? path.basename(photo).replace(/\.[^.]+$/, ''),
    createdAt: new Date().toISOString(),
    meta: { ...idnPackMeta(idn), source: 'cli' },
    tensors: [
      ...IDENTITY_TENSORS.map((name) => {
        const t = cond[name];
        if (!t) throw new Error(`conditioner.onnx has no output ${name}`);
        return { name, dtype: 'f16' as const, shape: [...t.dims], data: float32ToFloat16Bits(t.data as Float32Array) };
      }),
      ...(guideChannels ? guideTensors(aligned.rgba, aligned.points, aligned.toCrop) : []),
    ],
  });
}
