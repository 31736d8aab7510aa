/// <reference lib="webworker" />
// Finds the faces in identity photos, beside the camera worker (which starts
// it on the first photo): FaceLandmarker there tracks the camera in VIDEO
// mode, and analysing a photo on it held the frames for a quarter of a second.
import * as Comlink from 'comlink';
import { PhotoFaces, type FaceGeometry, type LandmarkDelegate } from '@guise/face/landmarker';

export class PhotoWorker {
  private faces: Promise<PhotoFaces> | undefined;

  /** Loads FaceLandmarker (IMAGE mode) from the same files, on the same delegate, as the camera's tracker. */
  start(wasm: string, model: string, delegate: LandmarkDelegate): Promise<void> {
    this.faces ??= PhotoFaces.create({ wasm, model, delegate });
    return this.faces.then(() => {});
  }

  /** Every face in `photo` (which is closed here). */
  async detect(photo: ImageBitmap): Promise<FaceGeometry[]> {
    try {
      if (!this.faces) throw new Error('the photo worker has not started');
      return (await this.faces).detect(photo);
    } finally {
      photo.close();
    }
  }
}

Comlink.expose(new PhotoWorker());
