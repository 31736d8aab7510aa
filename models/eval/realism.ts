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
  const g = gradients(img, mask);
  return g.length ? g.reduce((a, b) => a + b, 0) / g.length : 0;
}

/**
 * Seam: the step the swap puts along the edge of what it changed. The
 * gradient of the change (swapped − unswapped) on a ring around that edge,
 * over the unswapped frame's own gradient on the same ring: 0 where the swap
 * fades in with no step, about 1 where the step is as strong as the edges the
 * frame already has there, more for a hard crop edge. A gradient of the
 * change, not of the swapped frame, so a swap whose face is smoother than the
 * target's doesn't hide its seam.
 */
export function seamScore(swapped: Luma, original: Luma, pasted: Mask, radius = 2): number {
  const ring = boundaryRing(pasted, radius);
  const change: Luma = { ...original, data: original.data.map((v, i) => swapped.data[i]! - v) };
  // The steepest quarter of the ring: a seam is a stretch of the edge (a crop's side), and the rest would dilute it.
  const steps = gradients(change, ring).sort((a, b) => b - a);
  if (!steps.length) return 0; // nothing changed: no edge
  const top = steps.slice(0, Math.max(1, Math.ceil(steps.length * SEAM_SHARE)));
  return (top.reduce((a, b) => a + b, 0) / top.length) / Math.max(meanGradient(original, ring), 1);
}

/** Share of the ring a seam is judged on. */
const SEAM_SHARE = 0.25;

/** Gradient magnitudes (central differences) at the mask's pixels. */
function gradients(img: Luma, mask: Mask): number[] {
  const { width, height, data } = img;
  const out: number[] = [];
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (mask.data[i]) out.push(Math.hypot((data[i + 1]! - data[i - 1]!) / 2, (data[i + width]! - data[i - width]!) / 2));
    }
  }
  return out;
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

/**
 * Where a swap changed the frame, as one region: the absolute difference,
 * box-blurred over `radius` (so sensor noise and single pixels don't count),
 * above `threshold` levels, with its holes filled (a kept mouth is not a
 * paste edge) and eroded by the blur's reach, so its edge is where the paste
 * ends, whatever shape the engine pasted.
 */
export function changedRegion(swapped: Luma, original: Luma, threshold = 4, radius = 3): Mask {
  const { width, height } = original;
  const diff: Luma = { ...original, data: original.data.map((v, i) => Math.abs(swapped.data[i]! - v)) };
  const blurred = boxBlur(diff, radius);
  const region: Mask = { width, height, data: Uint8Array.from(blurred.data, (v) => (v > threshold ? 1 : 0)) };
  return erode(fillHoles(region), radius);
}

/** Unchanged pixels the image's border can't reach through unchanged pixels become part of the region. */
export function fillHoles(mask: Mask): Mask {
  const { width, height, data } = mask;
  const outside = new Uint8Array(width * height);
  const stack: number[] = [];
  const visit = (i: number) => { if (!data[i] && !outside[i]) { outside[i] = 1; stack.push(i); } };
  for (let x = 0; x < width; x++) { visit(x); visit((height - 1) * width + x); }
  for (let y = 0; y < height; y++) { visit(y * width); visit(y * width + width - 1); }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) visit(i - 1);
    if (x < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i < (height - 1) * width) visit(i + width);
  }
  return { width, height, data: outside.map((o) => 1 - o) };
}

/** Pixels whose whole (2r+1)² square is in the mask (separable min filter). */
export function erode(mask: Mask, radius: number): Mask {
  const { width, height, data } = mask;
  const rows = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let all = 1;
      for (let dx = -radius; dx <= radius && all; dx++) { const xx = x + dx; if (xx < 0 || xx >= width || !data[y * width + xx]) all = 0; }
      rows[y * width + x] = all;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let all = 1;
      for (let dy = -radius; dy <= radius && all; dy++) { const yy = y + dy; if (yy < 0 || yy >= height || !rows[yy * width + x]) all = 0; }
      out[y * width + x] = all;
    }
  }
  return { width, height, data: out };
}

/** A closed polygon (flat x, y pixel pairs) filled by the even-odd rule at pixel centres. */
export function polygonMask(xy: ArrayLike<number>, width: number, height: number): Mask {
  const data = new Uint8Array(width * height);
  const n = xy.length / 2;
  const crossings: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi, xj, yj] = [xy[2 * i]!, xy[2 * i + 1]!, xy[2 * j]!, xy[2 * j + 1]!];
      if ((yi > cy) !== (yj > cy)) crossings.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(crossings[k]! - 0.5)), x1 = Math.min(width - 1, Math.floor(crossings[k + 1]! - 0.5));
      for (let x = x0; x <= x1; x++) data[y * width + x] = 1;
    }
  }
  return { width, height, data };
}

/** Pixels in both masks. */
export function intersect(a: Mask, b: Mask): Mask {
  return { width: a.width, height: a.height, data: a.data.map((v, i) => v & b.data[i]!) };
}

/**
 * Flicker over a video whose face moves: frame pairs are compared inside the
 * face of both frames (null: no face, the pair is skipped), and the ratio is
 * of the sums, as flickerRatio's.
 */
export class FlickerMeter {
  private last: { swapped: Luma; original: Luma; face: Mask } | null = null;
  private swappedSum = 0;
  private originalSum = 0;
  private pixels = 0;

  push(swapped: Luma, original: Luma, face: Mask | null): void {
    const last = this.last;
    if (last && face) {
      const both = intersect(last.face, face);
      for (let i = 0; i < both.data.length; i++) {
        if (!both.data[i]) continue;
        this.swappedSum += Math.abs(swapped.data[i]! - last.swapped.data[i]!);
        this.originalSum += Math.abs(original.data[i]! - last.original.data[i]!);
        this.pixels++;
      }
    }
    this.last = face ? { swapped, original, face } : null;
  }

  /** Swapped ÷ original frame-to-frame change (NaN before two faced frames in a row). */
  get ratio(): number {
    return this.pixels ? this.swappedSum / Math.max(this.originalSum, 1e-6) : NaN;
  }

  get pairs(): number {
    return this.pixels;
  }
}
