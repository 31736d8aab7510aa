import { describe, expect, it } from 'vitest';
import {
  checkFaces,
  checkPhotoDimensions,
  checkPhotoFile,
  photoLimits,
  undecodable,
  type PhotoProblem,
} from '../src/photo.ts';

const MB = 1024 * 1024;

function expectProblem(p: PhotoProblem | null, code: PhotoProblem['code'], message?: string | RegExp): void {
  expect(p).not.toBeNull();
  expect(p!.code).toBe(code);
  expect(p!.message.length).toBeGreaterThan(10);
  if (typeof message === 'string') expect(p!.message).toBe(message);
  else if (message) expect(p!.message).toMatch(message);
}

describe('photoLimits', () => {
  it('has the agreed values and cannot be changed by accident', () => {
    expect(photoLimits).toEqual({
      maxBytes: 10 * MB,
      types: ['image/jpeg', 'image/png', 'image/webp'],
      maxPixels: 40_000_000,
      minSide: 128,
      minFacePx: 80,
      minFaceFraction: 0.08,
    });
    expect(Object.isFrozen(photoLimits)).toBe(true);
    expect(Object.isFrozen(photoLimits.types)).toBe(true);
  });
});

describe('checkPhotoFile', () => {
  it('accepts JPEG, PNG and WebP within the size limit', () => {
    for (const type of photoLimits.types) expect(checkPhotoFile({ type, size: 2 * MB })).toBeNull();
    expect(checkPhotoFile({ type: 'IMAGE/JPEG', size: 1 })).toBeNull();
    expect(checkPhotoFile({ type: 'image/png', size: photoLimits.maxBytes })).toBeNull();
  });

  it('names HEIC and other known formats', () => {
    expectProblem(
      checkPhotoFile({ type: 'image/heic', size: MB, name: 'IMG_0001.HEIC' }),
      'wrong_type',
      "HEIC photos aren't supported; use JPEG, PNG or WebP.",
    );
    expectProblem(checkPhotoFile({ type: 'image/gif', size: MB }), 'wrong_type', /^GIF photos aren't supported/);
    expectProblem(checkPhotoFile({ type: 'image/avif', size: MB }), 'wrong_type', /^AVIF/);
  });

  it('guesses the format from the name when the browser gives no type', () => {
    expectProblem(checkPhotoFile({ type: '', size: MB, name: 'IMG_0001.heic' }), 'wrong_type', /^HEIC/);
    expect(checkPhotoFile({ type: '', size: MB, name: 'me.JPG' })).toBeNull();
    expect(checkPhotoFile({ type: '', size: MB, name: 'me.webp' })).toBeNull();
    expectProblem(checkPhotoFile({ type: '', size: MB, name: 'notes' }), 'wrong_type', /“notes” isn't a supported photo/);
    expectProblem(checkPhotoFile({ type: '', size: MB }), 'wrong_type', "This file isn't a supported photo; use JPEG, PNG or WebP.");
  });

  it('rejects non-images by name', () => {
    expectProblem(
      checkPhotoFile({ type: 'application/pdf', size: MB, name: 'cv.pdf' }),
      'wrong_type',
      "“cv.pdf” isn't a supported photo; use JPEG, PNG or WebP.",
    );
  });

  it('rejects empty files', () => {
    expectProblem(checkPhotoFile({ type: 'image/jpeg', size: 0 }), 'empty', 'This file is empty. Choose another photo.');
    expectProblem(checkPhotoFile({ type: 'image/jpeg', size: 0, name: 'a.jpg' }), 'empty', /^“a.jpg” is empty/);
  });

  it('rejects files over the limit, with both sizes', () => {
    expectProblem(
      checkPhotoFile({ type: 'image/jpeg', size: Math.round(14.2 * MB) }),
      'too_large',
      'The file is 14.2 MB; the limit is 10 MB. Choose a smaller photo or save it at a lower quality.',
    );
    // One byte over never reads as "10 MB; the limit is 10 MB".
    expectProblem(checkPhotoFile({ type: 'image/png', size: photoLimits.maxBytes + 1 }), 'too_large', /^The file is 10\.1 MB;/);
    expectProblem(checkPhotoFile({ type: 'image/png', size: 12 * MB }), 'too_large', /^The file is 12 MB;/);
  });

  it('reports the type before the size', () => {
    expect(checkPhotoFile({ type: 'image/heic', size: 50 * MB })!.code).toBe('wrong_type');
  });
});

describe('checkPhotoDimensions', () => {
  it('accepts sizes within the limits, including the boundaries', () => {
    expect(checkPhotoDimensions(1920, 1080)).toBeNull();
    expect(checkPhotoDimensions(128, 128)).toBeNull();
    expect(checkPhotoDimensions(8000, 5000)).toBeNull(); // exactly 40 MP
  });

  it('rejects too many pixels', () => {
    expectProblem(
      checkPhotoDimensions(8000, 6000),
      'too_many_pixels',
      'This photo is 8000 × 6000 pixels (48 megapixels); the limit is 40 megapixels. Choose a smaller photo or resize it.',
    );
    expectProblem(checkPhotoDimensions(8001, 5000), 'too_many_pixels', /\(40\.1 megapixels\)/);
  });

  it('rejects images with a side under the minimum', () => {
    expectProblem(
      checkPhotoDimensions(127, 400),
      'too_small_image',
      'This photo is only 127 × 400 pixels; it needs to be at least 128 pixels on each side. Choose a larger photo.',
    );
    expectProblem(checkPhotoDimensions(4000, 127), 'too_small_image');
  });

  it('treats zero or nonsense dimensions as undecodable', () => {
    expectProblem(checkPhotoDimensions(0, 0), 'undecodable');
    expectProblem(checkPhotoDimensions(Number.NaN, 100), 'undecodable');
    expectProblem(checkPhotoDimensions(100, -1), 'undecodable');
    expectProblem(checkPhotoDimensions(Infinity, 100), 'undecodable');
  });
});

describe('undecodable', () => {
  it('names the file when known', () => {
    expectProblem(undecodable('me.jpg'), 'undecodable', "Couldn't open “me.jpg” as an image; it may be damaged. Try another photo.");
    expectProblem(undecodable(), 'undecodable', /^Couldn't open this file as an image/);
  });
});

describe('checkFaces', () => {
  it('accepts exactly one large enough face', () => {
    expect(checkFaces([{ width: 300, height: 360 }], 1000, 1200)).toBeNull();
  });

  it('reports no face', () => {
    expectProblem(
      checkFaces([], 800, 600),
      'no_face',
      'No face found in this photo. Choose a photo where one face is clearly visible.',
    );
  });

  it('reports several faces with the count', () => {
    const face = { width: 200, height: 200 };
    expectProblem(checkFaces([face, face, face], 800, 600), 'several_faces', 'This photo has 3 faces. Choose a photo with exactly one face.');
    expectProblem(checkFaces([face, face], 800, 600), 'several_faces', /^This photo has 2 faces/);
  });

  it('needs at least minFacePx on the face box short side', () => {
    // Small image, so only the pixel rule applies (0.08 × 300 = 24 px).
    expect(checkFaces([{ width: 80, height: 120 }], 300, 400)).toBeNull();
    expectProblem(checkFaces([{ width: 79.5, height: 120 }], 300, 400), 'face_too_small', /\(79 pixels across\)/); // never "80"
    expectProblem(checkFaces([{ width: 200, height: 79 }], 300, 400), 'face_too_small', /\(79 pixels across\)/);
  });

  it('needs the face to fill minFaceFraction of the image short side', () => {
    // Image short side 3000 → 240 px needed.
    expect(checkFaces([{ width: 240, height: 260 }], 4000, 3000)).toBeNull();
    expectProblem(
      checkFaces([{ width: 239, height: 260 }], 4000, 3000),
      'face_too_small',
      'The face is too small in this photo (239 pixels across). Choose a closer photo, or crop it so the face fills more of the picture.',
    );
  });
});
