// `pnpm identity pack photo.jpg`: builds an identity pack offline, on
// onnxruntime-node, from the same models and the same steps as the browser:
// FaceLandmarker (in headless Chromium: tasks-vision runs only in a browser)
// finds exactly one face, the ArcFace 5-point alignment crops it at 224 (drawn
// by the page's canvas with the face package's drawAligned, in OpenCV's pixel
// convention), and the face package's IDN conditioning turns it into the pack
// (@guise/face/idn/conditioning, which the app's worker runs on
// onnxruntime-web). The pack names its model, as the app's do (packFit.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { conditionIdentity, IDENTITY_CROP } from '@guise/face/idn/conditioning';
import { checkGuideChannels } from '@guise/face/idn/guide';
import { parseIdnManifest } from '@guise/face/idn/manifest';
import { alignmentFor, type Affine } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { encodePack } from '@guise/face/pack';
import { checkFaces, checkPhotoDimensions, checkPhotoFile, type PhotoProblem } from '@guise/face/photo';
import { faceBoxes, mimeOf, openLandmarkerPage, type LandmarkerWindow } from '../face/headlessLandmarker.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
      const w = window as unknown as LandmarkerWindow & { photo: ImageBitmap };
      try { w.photo = await createImageBitmap(await (await fetch('/img/photo')).blob()); } catch { return null; }
      const faces = w.landmarker.detect(w.photo).faceLandmarks;
      return { width: w.photo.width, height: w.photo.height, faces: faces.map((f) => f.map((p) => ({ x: p.x, y: p.y, z: p.z }))) };
    });
    if (!found) throw new PackProblem({ code: 'undecodable', message: `${path.basename(photo)} could not be opened as an image.` });
    const problem = checkPhotoDimensions(found.width, found.height) ?? checkFaces(faceBoxes(found.faces, found.width, found.height), found.width, found.height);
    if (problem) throw new PackProblem(problem);
    const face = found.faces[0]!;
    const { toCrop } = alignmentFor(fivePoints(face, found.width, found.height), IDENTITY_CROP);
    const rgba = await page.evaluate(([m, size]) => {
      const w = window as unknown as LandmarkerWindow & { photo: ImageBitmap };
      return Array.from(w.face.alignedPixels(w.photo, m, size));
    }, [toCrop, IDENTITY_CROP] as const);
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
  checkGuideChannels(idn.manifest.guide_channels, idn.manifest.input_channels); // refuse an unsupported model before starting Chromium
  const aligned = await alignedFace(photo);
  const identity = await ort.InferenceSession.create(path.join(model, 'identity.onnx'));
  const conditioner = await ort.InferenceSession.create(path.join(model, 'conditioner.onnx'));
  try {
    return encodePack(await conditionIdentity(ort, { identity, conditioner }, aligned, idn, {
      label: opts.label ?? path.basename(photo).replace(/\.[^.]+$/, ''),
      meta: { source: 'cli' },
    }));
  } finally {
    await Promise.all([identity.release(), conditioner.release()]);
  }
}
