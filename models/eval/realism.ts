// Realism metrics of the quality eval (issue 11): what makes a swapped face
// look pasted on, measured on luma images (width × height, row-major, 0-255).
// Each compares the swapped frame with the unswapped one, so a score is about
// the swap, not the photo. Pure: no browser, no files (realism.test.ts plants
// each defect and checks its score rises).

export interface Luma { width: number; height: number; data: Float32Array }
/** 1 inside a region (the pasted face, say), 0 outside; same size as the image. */
export interface Mask { width: number; height: number; data: Uint8Array }

/** Luma (BT.601) of RGBA pixels. */
export function lumaOf(rgba: ArrayLike<number>, width: number, height: number): Luma {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = 0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!;
  return { width, height, data };
}

/** Pixels within `radius` (Chebyshev) of the mask's edge, on both sides: where a paste's boundary would show. */
export function boundaryRing(mask: Mask, radius: number): Mask {
  const { width, height, data } = mask;
  const ring = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = data[y * width + x]!;
      let differs = false;
      for (let dy = -radius; dy <= radius && !differs; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && data[yy * width + xx] !== inside) { differs = true; break; }
        }
      }
      if (differs) ring[y * width + x] = 1;
    }
  }
  return { width, height, data: ring };
}

/** Mean gradient magnitude (central differences) over the mask's pixels. */
export function meanGradient(img: Luma, mask: Mask): number {
  const { width, height, data } = img;
  let sum = 0, n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (!mask.data[i]) continue;
      const gx = (data[i + 1]! - data[i - 1]!) / 2, gy = (data[i + width]! - data[i - width]!) / 2;
      sum += Math.hypot(gx, gy);
      n++;
    }
  }
  return n ? sum / n : 0;
}

/**
 * Seam: the gradient along the paste boundary in excess of the same ring in
 * the unswapped frame, as a ratio (0: no more edge than the frame had; 1:
 * twice as much).
 */
export function seamScore(swapped: Luma, original: Luma, pasted: Mask, radius = 2): number {
  const ring = boundaryRing(pasted, radius);
  const before = meanGradient(original, ring);
  return (meanGradient(swapped, ring) - before) / Math.max(before, 1);
}

/** Box blur of `radius`, as a summed-area table: the low-frequency shading. */
export function boxBlur(img: Luma, radius: number): Luma {
  const { width, height, data } = img;
  const sat = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += data[y * width + x]!;
      sat[(y + 1) * (width + 1) + x + 1] = sat[y * (width + 1) + x + 1]! + row;
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - radius), y1 = Math.min(height, y + radius + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - radius), x1 = Math.min(width, x + radius + 1);
      const s = sat[y1 * (width + 1) + x1]! - sat[y0 * (width + 1) + x1]! - sat[y1 * (width + 1) + x0]! + sat[y0 * (width + 1) + x0]!;
      out[y * width + x] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return { width, height, data: out };
}

/** Pearson correlation of two images over the mask's pixels (0 where either is flat). */
export function correlation(a: Luma, b: Luma, mask: Mask): number {
  let n = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.data.length; i++) if (mask.data[i]) { n++; sa += a.data[i]!; sb += b.data[i]!; }
  if (!n) return 0;
  const ma = sa / n, mb = sb / n;
  let cov = 0, va = 0, vb = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (!mask.data[i]) continue;
    const da = a.data[i]! - ma, db = b.data[i]! - mb;
    cov += da * db; va += da * da; vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}

/**
 * Lighting: how far the swapped face's low-frequency shading is from the
 * target's, 1 − their correlation inside the face (0: the same shading; 2:
 * opposite). `radius` should be a good part of the face (an eighth of its width).
 */
export function lightingScore(swapped: Luma, target: Luma, face: Mask, radius: number): number {
  return 1 - correlation(boxBlur(swapped, radius), boxBlur(target, radius), face);
}

/** Mean absolute change between consecutive frames inside the mask. */
export function meanFrameChange(frames: Luma[], mask: Mask): number {
  let sum = 0, n = 0;
  for (let f = 1; f < frames.length; f++) {
    const a = frames[f - 1]!.data, b = frames[f]!.data;
    for (let i = 0; i < a.length; i++) if (mask.data[i]) { sum += Math.abs(b[i]! - a[i]!); n++; }
  }
  return n ? sum / n : 0;
}

/** Flicker: frame-to-frame change inside the face on the swapped video ÷ on the original (1: as steady as the original). */
export function flickerRatio(swapped: Luma[], original: Luma[], face: Mask): number {
  return meanFrameChange(swapped, face) / Math.max(meanFrameChange(original, face), 1e-6);
}

/**
 * Occlusion: the share of the target's occluder pixels (glasses frames, a
 * hand) the swap kept, within `tolerance` levels of the unswapped frame (1: all kept).
 */
export function occluderKept(swapped: Luma, target: Luma, occluder: Mask, tolerance = 12): number {
  let kept = 0, n = 0;
  for (let i = 0; i < target.data.length; i++) {
    if (!occluder.data[i]) continue;
    n++;
    if (Math.abs(swapped.data[i]! - target.data[i]!) <= tolerance) kept++;
  }
  return n ? kept / n : 1;
}
