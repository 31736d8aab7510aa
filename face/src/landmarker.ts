// MediaPipe's FaceLandmarker, set up in one place for every caller: the app's
// worker (FaceTracker), the quality eval's page, and the headless pages of the
// offline tools and the tests (through the page bundle, page.ts).
import { FaceLandmarker, FilesetResolver, type NormalizedLandmark } from '@mediapipe/tasks-vision';
import { alignmentFor, type Affine } from './align.ts';
import { fivePoints } from './keypoints.ts';
import { keepFetchOnOrigin } from './ownOrigin.ts';

/** One face's 478 landmarks in the frame's pixel coordinates, interleaved x, y, z. */
export interface FaceGeometry {
  points: Float32Array;
  width: number;
  height: number;
}

/**
 * FaceLandmarker's delegate. Each has its own bundle: the GPU one merges the
 * landmark heads with ops the WebGL delegate accepts.
 */
export type LandmarkDelegate = 'CPU' | 'GPU';

export interface LandmarkerOptions {
  /** URL of tasks-vision's wasm folder. */
  wasm: string;
  /** URL of face_landmarker.task. */
  model: string;
  delegate: LandmarkDelegate;
  runningMode: 'IMAGE' | 'VIDEO';
  numFaces: number;
  /** A module worker can't importScripts: it needs the ES-module build of the wasm loader. */
  moduleWorker?: boolean;
}

export async function createFaceLandmarker(o: LandmarkerOptions): Promise<FaceLandmarker> {
  keepFetchOnOrigin(globalThis, globalThis.location.origin);
  const fileset = await FilesetResolver.forVisionTasks(o.wasm, o.moduleWorker ?? false);
  // Fetched here rather than by tasks-vision, so a missing model says which URL answered what.
  const res = await fetch(o.model);
  if (!res.ok) throw new Error(`face model missing: ${o.model} answered ${res.status}`);
  const model = new Uint8Array(await res.arrayBuffer());
  const landmarker = await FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetBuffer: model, delegate: o.delegate },
    runningMode: o.runningMode,
    numFaces: o.numFaces,
    outputFaceBlendshapes: false,
  });
  return landmarker;
}

/** FaceLandmarker's normalised landmarks → pixels; MediaPipe's z is in x's scale. */
export function toGeometry(landmarks: readonly NormalizedLandmark[], width: number, height: number): FaceGeometry {
  const points = new Float32Array(landmarks.length * 3);
  landmarks.forEach((p, i) => {
    points[i * 3] = p.x * width;
    points[i * 3 + 1] = p.y * height;
    points[i * 3 + 2] = p.z * width;
  });
  return { points, width, height };
}

/** A video frame's or bitmap's size in pixels. */
export function frameSize(frame: VideoFrame | ImageBitmap): [number, number] {
  return 'displayWidth' in frame ? [frame.displayWidth, frame.displayHeight] : [frame.width, frame.height];
}

/** The landmarks' bounding box in pixels. */
export function faceBox(face: FaceGeometry): { x: number; y: number; width: number; height: number } {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < face.points.length; i += 3) {
    x0 = Math.min(x0, face.points[i]!); x1 = Math.max(x1, face.points[i]!);
    y0 = Math.min(y0, face.points[i + 1]!); y1 = Math.max(y1, face.points[i + 1]!);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The ArcFace 5-point alignment of `face` to a cropSize square (OpenCV's pixel convention, as crop.ts draws it). */
export function alignFace(face: FaceGeometry, cropSize: number): { toCrop: Affine; toFrame: Affine } {
  const pts = face.points;
  const landmarks = Array.from({ length: pts.length / 3 }, (_, i) => ({ x: pts[i * 3]! / face.width, y: pts[i * 3 + 1]! / face.height }));
  return alignmentFor(fivePoints(landmarks, face.width, face.height), cropSize);
}

const VIDEO = { runningMode: 'VIDEO', numFaces: 1 } as const;

/**
 * The app's camera face tracker: VIDEO mode, one face, tracked between
 * frames. Identity photos go to a PhotoFaces in another worker: switching this
 * one to IMAGE mode and back rebuilt its graph twice and held the frames.
 * One instance per worker: tasks-vision's ES-module loader can only set up one.
 */
export class FaceTracker {
  private lastTs = -1;

  private constructor(private readonly landmarker: FaceLandmarker) {}

  static async create(o: { wasm: string; model: string; delegate: LandmarkDelegate }): Promise<FaceTracker> {
    return new FaceTracker(await createFaceLandmarker({ ...o, ...VIDEO, moduleWorker: true }));
  }

  /** The camera's face, or null when none is found. `timestampMs` must increase. */
  track(frame: VideoFrame | ImageBitmap, timestampMs: number): FaceGeometry | null {
    const ts = Math.max(timestampMs, this.lastTs + 1e-3); // tasks-vision rejects non-increasing timestamps
    this.lastTs = ts;
    const faces = this.landmarker.detectForVideo(frame, ts).faceLandmarks;
    return faces[0] ? toGeometry(faces[0], ...frameSize(frame)) : null;
  }

  close(): void {
    this.landmarker.close();
  }
}

/** Every face in a still photo (IMAGE mode, up to 4, so a group photo can be refused). */
export class PhotoFaces {
  private constructor(private readonly landmarker: FaceLandmarker) {}

  static async create(o: { wasm: string; model: string; delegate: LandmarkDelegate }): Promise<PhotoFaces> {
    return new PhotoFaces(await createFaceLandmarker({ ...o, runningMode: 'IMAGE', numFaces: 4, moduleWorker: true }));
  }

  detect(photo: ImageBitmap): FaceGeometry[] {
    return this.landmarker.detect(photo).faceLandmarks.map((f) => toGeometry(f, photo.width, photo.height));
  }

  close(): void {
    this.landmarker.close();
  }
}
