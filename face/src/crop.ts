// Aligned crops in and out of a frame with Canvas 2D: the affine warp the
// IDN needs on the way in, and the masked paste-back on the way out.
import type { Affine } from './align.ts';

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/**
 * The canvas transform for an affine in OpenCV's pixel convention (pixel i's
 * centre at i, as alignmentFor and the ArcFace template have it): a canvas
 * puts pixel i's centre at i + 0.5, so shift by half a pixel on both sides.
 * Drawing through it then matches cv2.warpAffine, as the training crops do
 * (models/data/prepare.ts), and the landmarks mapped by `m` land on the drawn
 * face (the warp guide relies on it).
 */
export function canvasAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  return [a, b, tx + 0.5 - 0.5 * (a + b), c, d, ty + 0.5 - 0.5 * (c + d)];
}

/** Sets canvasAffine(m); canvas's setTransform(a, b, c, d, e, f) maps x' = a·x + c·y + e, y' = b·x + d·y + f. */
export function setAffine(ctx: Canvas2D, m: Affine): void {
  const [a, b, tx, c, d, ty] = canvasAffine(m);
  ctx.setTransform(a, c, b, d, tx, ty);
}

/**
 * Cuts the aligned crop: clears ctx's canvas and draws `source` through
 * `toCrop` (OpenCV's convention, as alignmentFor gives it). The one way every
 * aligned crop is made: the IDN's input, identity packs, training crops and
 * the test judge's crops.
 */
export function drawAligned(ctx: Canvas2D, source: CanvasImageSource, toCrop: Affine): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  setAffine(ctx, toCrop);
  ctx.drawImage(source, 0, 0);
}

/** A new size × size crop of `source` through `toCrop`, as RGBA pixels. */
export function alignedPixels(source: CanvasImageSource, toCrop: Affine, size: number): Uint8ClampedArray {
  const ctx = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true })!;
  drawAligned(ctx, source, toCrop);
  return ctx.getImageData(0, 0, size, size).data;
}

/** RGBA pixels → planar RGB floats in [0, 1] (NCHW, batch 1), into `out`. */
export function rgbaToPlanar(rgba: Uint8ClampedArray, size: number, out: Float32Array): Float32Array {
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    out[i] = rgba[i * 4]! / 255;
    out[plane + i] = rgba[i * 4 + 1]! / 255;
    out[2 * plane + i] = rgba[i * 4 + 2]! / 255;
  }
  return out;
}

/**
 * Planar RGB in [0, 1] plus a mask → RGBA with the mask as alpha, faded to 0
 * over `feather` pixels at the crop's border so the paste-back has no seam.
 */
export function planarToRgba(rgb: Float32Array, mask: Float32Array, size: number, feather: number, out: Uint8ClampedArray): Uint8ClampedArray {
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const edge = Math.min(x, y, size - 1 - x, size - 1 - y);
      const fade = feather > 0 ? Math.min(1, edge / feather) : 1;
      out[i * 4] = rgb[i]! * 255;
      out[i * 4 + 1] = rgb[plane + i]! * 255;
      out[i * 4 + 2] = rgb[2 * plane + i]! * 255;
      out[i * 4 + 3] = Math.max(0, Math.min(1, mask[i]!)) * fade * 255;
    }
  }
  return out;
}
