// FaceLandmarker in the worker. It tracks the camera in VIDEO mode (one face,
// tracked between frames) and switches to IMAGE mode for an identity photo,
// looking for several faces so a group photo can be refused. One instance:
// tasks-vision's ES-module loader can only set up one per worker.
import { FaceLandmarker, FilesetResolver, type NormalizedLandmark } from '@mediapipe/tasks-vision';
import type { FaceGeometry } from '../../engines/types.ts';
import type { AssetUrls, LandmarkDelegate } from '../messages.ts';

export interface Landmarkers {
  /** The camera's face, or null when none is found. `timestampMs` must increase. */
  track(frame: VideoFrame | ImageBitmap, timestampMs: number): FaceGeometry | null;
  /** Every face in a still photo. */
  detectAll(photo: ImageBitmap): Promise<FaceGeometry[]>;
  close(): void;
}

export async function createLandmarkers(assets: AssetUrls, delegate: LandmarkDelegate): Promise<Landmarkers> {
  // A module worker can't importScripts: ask for the ES-module build of the wasm loader.
  const fileset = await FilesetResolver.forVisionTasks(assets.visionWasm, true);
  const res = await fetch(assets.landmarkerModel);
  if (!res.ok) throw new Error(`face model missing: ${assets.landmarkerModel} answered ${res.status}`);
  const model = new Uint8Array(await res.arrayBuffer());
  const common = { baseOptions: { modelAssetBuffer: model, delegate }, outputFaceBlendshapes: false };
  const videoMode = { runningMode: 'VIDEO', numFaces: 1 } as const;
  const landmarker = await FaceLandmarker.createFromOptions(fileset, { ...common, ...videoMode });
  let inImageMode = false;
  let lastTs = -1;

  return {
    track(frame, timestampMs) {
      if (inImageMode) return null; // a photo is being analysed: this frame passes through
      const ts = Math.max(timestampMs, lastTs + 1e-3); // tasks-vision rejects non-increasing timestamps
      lastTs = ts;
      const faces = landmarker.detectForVideo(frame, ts).faceLandmarks;
      return faces[0] ? toGeometry(faces[0], ...sizeOf(frame)) : null;
    },
    async detectAll(photo) {
      inImageMode = true;
      try {
        await landmarker.setOptions({ runningMode: 'IMAGE', numFaces: 4 });
        return landmarker.detect(photo).faceLandmarks.map((f) => toGeometry(f, photo.width, photo.height));
      } finally {
        await landmarker.setOptions(videoMode);
        inImageMode = false;
      }
    },
    close() {
      landmarker.close();
    },
  };
}

export function sizeOf(frame: VideoFrame | ImageBitmap): [number, number] {
  return 'displayWidth' in frame ? [frame.displayWidth, frame.displayHeight] : [frame.width, frame.height];
}

function toGeometry(landmarks: NormalizedLandmark[], width: number, height: number): FaceGeometry {
  const points = new Float32Array(landmarks.length * 3);
  landmarks.forEach((p, i) => {
    points[i * 3] = p.x * width;
    points[i * 3 + 1] = p.y * height;
    points[i * 3 + 2] = p.z * width; // MediaPipe's z is in the same scale as x
  });
  return { points, width, height };
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
