// Tiny grayscale thumbnails and their correlation: enough to tell which video
// a received frame came from, robust to codec noise and scaling.

export type Thumbnail = Float32Array;

/** Box-filters a luma plane down to w×h. */
export function lumaThumbnail(luma: ArrayLike<number>, width: number, height: number, w: number, h: number): Thumbnail {
  const out = new Float32Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    const y0 = Math.floor((ty * height) / h), y1 = Math.floor(((ty + 1) * height) / h);
    for (let tx = 0; tx < w; tx++) {
      const x0 = Math.floor((tx * width) / w), x1 = Math.floor(((tx + 1) * width) / w);
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += luma[y * width + x]!;
      out[ty * w + tx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** Pearson correlation: 1 for the same picture under any brightness/contrast change. */
export function correlation(a: Thumbnail, b: Thumbnail): number {
  if (a.length !== b.length) throw new Error('thumbnail sizes differ');
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n; mb /= n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    ab += da * db; aa += da * da; bb += db * db;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

export function bestCorrelation(frame: Thumbnail, candidates: Thumbnail[]): number {
  return candidates.reduce((best, c) => Math.max(best, correlation(frame, c)), -1);
}

export function meanAbsDiff(a: Thumbnail, b: Thumbnail): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}
