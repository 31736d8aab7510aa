// `pnpm identity pack photo.jpg`: builds an identity pack offline, on
// onnxruntime-node, from the same models and the same steps as the browser:
// FaceLandmarker (in headless Chromium: tasks-vision runs only in a browser)
// finds exactly one face, the ArcFace 5-point alignment crops it at 224, and
// identity.onnx + conditioner.onnx produce the 18 per-identity tensors.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { rgbaToPlanar } from '../../client/src/engines/idn/crop.ts';
import { IDENTITY_TENSORS } from '../../client/src/engines/idn/tensors.ts';
import { alignmentFor } from '../../client/src/face/align.ts';
import { fivePoints } from '../../client/src/face/keypoints.ts';
import { encodePack, float32ToFloat16Bits } from '../../client/src/identity/pack.ts';
import { faceBoxes, mimeOf, openLandmarkerPage } from '../face/headlessLandmarker.ts';
import { checkFaces, checkPhotoDimensions, checkPhotoFile, type PhotoProblem } from '../../client/src/identity/validate.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CROP = 224;

export class PackProblem extends Error {
  constructor(readonly problem: PhotoProblem) { super(problem.message); }
}

/** The model folder to use: the one given, else a converted or trained model in models/idn. */
export function findModel(given?: string): string {
  const candidates = given ? [given] : ['official-224', 'trained-128', 'trained-224'].map((d) => path.join(root, 'models/idn', d));
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'identity.onnx')) && fs.existsSync(path.join(d, 'conditioner.onnx')));
  if (!found) {
    throw new Error(given
      ? `${given} has no identity.onnx and conditioner.onnx`
      : 'no MobileFaceSwap model in models/idn: convert the official checkpoint (models/convert_official) or pass --model DIR');
  }
  return found;
}

/** FaceLandmarker on the photo in headless Chromium; returns the aligned 224 crop of its one face. */
async function alignedFace(photo: string): Promise<Uint8ClampedArray> {
  const { page, close } = await openLandmarkerPage((key) => (key === 'photo' ? photo : undefined), 4);
  try {
    const found = await page.evaluate(async () => {
      let bitmap: ImageBitmap;
      try { bitmap = await createImageBitmap(await (await fetch('/img/photo')).blob()); } catch { return null; }
      (window as unknown as { photo: ImageBitmap }).photo = bitmap;
      const faces = (window as any).landmarker.detect(bitmap).faceLandmarks as { x: number; y: number }[][];
      return { width: bitmap.width, height: bitmap.height, faces: faces.map((f) => f.map((p) => ({ x: p.x, y: p.y }))) };
    });
    if (!found) throw new PackProblem({ code: 'undecodable', message: `${path.basename(photo)} could not be opened as an image.` });
    const problem = checkPhotoDimensions(found.width, found.height) ?? checkFaces(faceBoxes(found.faces, found.width, found.height), found.width, found.height);
    if (problem) throw new PackProblem(problem);
    const { toCrop } = alignmentFor(fivePoints(found.faces[0]!, found.width, found.height), CROP);
    const rgba = await page.evaluate(([m, size]) => {
      const c = new OffscreenCanvas(size, size);
      const ctx = c.getContext('2d', { willReadFrequently: true })!;
      ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
      ctx.drawImage((window as unknown as { photo: ImageBitmap }).photo, 0, 0);
      return Array.from(ctx.getImageData(0, 0, size, size).data);
    }, [toCrop, CROP] as const);
    return Uint8ClampedArray.from(rgba);
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
  const manifest = JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8')) as { crop: number; weights: string };
  const face = rgbaToPlanar(await alignedFace(photo), CROP, new Float32Array(3 * CROP * CROP));
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
    meta: { crop: manifest.crop, weights: manifest.weights, source: 'cli' },
    tensors: IDENTITY_TENSORS.map((name) => {
      const t = cond[name];
      if (!t) throw new Error(`conditioner.onnx has no output ${name}`);
      return { name, dtype: 'f16' as const, shape: [...t.dims], data: float32ToFloat16Bits(t.data as Float32Array) };
    }),
  });
}
