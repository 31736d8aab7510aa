// The rules for an identity photo, each failure with a message a person can
// act on. Checks run cheapest first: file metadata, then decoded dimensions,
// then the face detector's boxes.

export interface PhotoLimits {
  /** Largest accepted file, in bytes. */
  readonly maxBytes: number;
  /** Accepted MIME types. */
  readonly types: readonly string[];
  /** Largest accepted width × height (decoding costs memory: 4 bytes a pixel). */
  readonly maxPixels: number;
  /** Shortest accepted image side, in pixels. */
  readonly minSide: number;
  /** Shortest accepted face box side, in pixels (the swap crop is 128–224 px). */
  readonly minFacePx: number;
  /** Face box short side relative to the image's short side. */
  readonly minFaceFraction: number;
}

export const photoLimits: PhotoLimits = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  types: Object.freeze(['image/jpeg', 'image/png', 'image/webp']),
  maxPixels: 40_000_000,
  minSide: 128,
  minFacePx: 80,
  minFaceFraction: 0.08,
});

export type PhotoProblemCode =
  | 'wrong_type'
  | 'too_large'
  | 'empty'
  | 'too_many_pixels'
  | 'too_small_image'
  | 'undecodable'
  | 'no_face'
  | 'several_faces'
  | 'face_too_small';

export type PhotoProblem = { code: PhotoProblemCode; message: string };

const SUPPORTED = 'use JPEG, PNG or WebP';

// File extensions we can name when the browser gives no MIME type (common for HEIC).
const EXTENSION_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jfif: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
};

// Formats people often have, named so the message says what went wrong.
const FORMAT_NAMES: Record<string, string> = {
  'image/heic': 'HEIC',
  'image/heif': 'HEIF',
  'image/heic-sequence': 'HEIC',
  'image/heif-sequence': 'HEIF',
  'image/avif': 'AVIF',
  'image/gif': 'GIF',
  'image/bmp': 'BMP',
  'image/tiff': 'TIFF',
  'image/svg+xml': 'SVG',
};

export function checkPhotoFile(file: { type: string; size: number; name?: string }): PhotoProblem | null {
  const type = effectiveType(file);
  if (!photoLimits.types.includes(type)) {
    const format = FORMAT_NAMES[type];
    if (format) return problem('wrong_type', `${format} photos aren't supported; ${SUPPORTED}.`);
    const what = file.name ? `“${file.name}” isn't` : `This file isn't`;
    return problem('wrong_type', `${what} a supported photo; ${SUPPORTED}.`);
  }
  if (file.size <= 0) {
    return problem('empty', `${file.name ? `“${file.name}”` : 'This file'} is empty. Choose another photo.`);
  }
  if (file.size > photoLimits.maxBytes) {
    return problem(
      'too_large',
      `The file is ${overLimit(file.size / BYTES_PER_MB, photoLimits.maxBytes / BYTES_PER_MB)} MB; ` +
        `the limit is ${tenths(photoLimits.maxBytes / BYTES_PER_MB)} MB. ` +
        'Choose a smaller photo or save it at a lower quality.',
    );
  }
  return null;
}

export function checkPhotoDimensions(width: number, height: number): PhotoProblem | null {
  if (!(width > 0) || !(height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    return undecodable();
  }
  if (width * height > photoLimits.maxPixels) {
    return problem(
      'too_many_pixels',
      `This photo is ${width} × ${height} pixels (${overLimit(width * height / 1e6, photoLimits.maxPixels / 1e6)} megapixels); ` +
        `the limit is ${tenths(photoLimits.maxPixels / 1e6)} megapixels. Choose a smaller photo or resize it.`,
    );
  }
  if (Math.min(width, height) < photoLimits.minSide) {
    return problem(
      'too_small_image',
      `This photo is only ${width} × ${height} pixels; it needs to be at least ${photoLimits.minSide} pixels on each side. ` +
        'Choose a larger photo.',
    );
  }
  return null;
}

export function undecodable(name?: string): PhotoProblem {
  const what = name ? `“${name}”` : 'this file';
  return problem('undecodable', `Couldn't open ${what} as an image; it may be damaged. Try another photo.`);
}

export function checkFaces(
  faces: { width: number; height: number }[],
  imageWidth: number,
  imageHeight: number,
): PhotoProblem | null {
  if (faces.length === 0) {
    return problem('no_face', 'No face found in this photo. Choose a photo where one face is clearly visible.');
  }
  if (faces.length > 1) {
    return problem('several_faces', `This photo has ${faces.length} faces. Choose a photo with exactly one face.`);
  }
  const face = faces[0]!;
  const faceSide = Math.min(face.width, face.height);
  const imageSide = Math.min(imageWidth, imageHeight);
  if (faceSide < photoLimits.minFacePx || faceSide < photoLimits.minFaceFraction * imageSide) {
    return problem(
      'face_too_small',
      `The face is too small in this photo (${Math.floor(faceSide)} pixels across). ` +
        'Choose a closer photo, or crop it so the face fills more of the picture.',
    );
  }
  return null;
}

/** The MIME type, or one guessed from the name when the browser gave none. */
function effectiveType(file: { type: string; name?: string }): string {
  const type = file.type.trim().toLowerCase();
  if (type) return type;
  const extension = file.name?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return (extension && EXTENSION_TYPES[extension]) || '';
}

const BYTES_PER_MB = 1024 * 1024;

/** "14.2" for a value over `limit`, never rounded down to the limit itself. */
function overLimit(value: number, limit: number): string {
  const rounded = Math.round(value * 10) / 10;
  return tenths(rounded > limit ? rounded : Math.ceil(value * 10) / 10);
}

function tenths(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function problem(code: PhotoProblemCode, message: string): PhotoProblem {
  return { code, message };
}
