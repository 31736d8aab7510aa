// The warp-guided IDN's guide: a source face warped piecewise-affinely onto a
// target's landmarks over the face mesh's triangles. Pure (no DOM) and
// allocation-free per call, since the idn engine runs it on every frame.
//
// The definition is models/teacher/warp.py's, which made the training data:
//   * pixel (x, y) has its centre at (x, y) (OpenCV convention);
//   * a pixel belongs to a triangle when all three barycentric coordinates of
//     its centre in the TARGET triangle are >= -1e-6; triangles are visited in
//     topology order and a later one overwrites an earlier one; degenerate
//     target triangles (|area| < 1e-9) are skipped;
//   * its value is the source sampled bilinearly at the same barycentric point
//     of the SOURCE triangle, taps outside the source reading 0;
//   * RGB 0 and mask 0 where no triangle covers.
// Bilinear sampling reproduces cv2.remap (INTER_LINEAR, BORDER_CONSTANT 0) to
// the bit: the float32 sample position is rounded to 1/32 pixel (half to
// even) and the 8-bit result rounded from exact integer weights, so the guide
// the app feeds is the one the model was trained on.

/** An 8-bit image, row-major, `channels` interleaved values per pixel, R, G, B first. */
export interface WarpImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

const INSIDE_EPS = -1e-6;
const MIN_AREA = 1e-9;
const BBOX_EPS = 1e-6;
/** cv2.remap's sub-pixel grid: INTER_BITS = 5. */
const TAB = 32;

export class TriangleWarp {
  readonly plane: number;
  private readonly mapX: Float32Array;
  private readonly mapY: Float32Array;
  private readonly covered: Uint8Array;
  private readonly pointsNeeded: number;

  /**
   * @param width, height the output (target crop) size
   * @param triangles vertex indices, three per triangle, in the order that decides overlaps
   */
  constructor(readonly width: number, readonly height: number, private readonly triangles: ArrayLike<number>) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
      throw new RangeError(`TriangleWarp needs a positive integer size, got ${width}×${height}`);
    }
    if (triangles.length % 3 !== 0) throw new RangeError(`triangle indices come in threes, got ${triangles.length}`);
    let max = -1;
    for (let i = 0; i < triangles.length; i++) max = Math.max(max, triangles[i]!);
    this.pointsNeeded = max + 1;
    this.plane = width * height;
    this.mapX = new Float32Array(this.plane);
    this.mapY = new Float32Array(this.plane);
    this.covered = new Uint8Array(this.plane);
  }

  /**
   * Warps `src` (whose landmarks are `srcXY`) onto `dstXY` and writes four
   * planes of width×height floats into `out` from `offset`: R, G, B in [0, 1]
   * (multiples of 1/255) and the coverage mask in {0, 1}. Landmarks are
   * interleaved x, y in each image's pixels. Returns the covered pixel count.
   */
  warp(src: WarpImage, srcXY: ArrayLike<number>, dstXY: ArrayLike<number>, out: Float32Array, offset = 0): number {
    const { width, height, plane, mapX, mapY, covered, triangles } = this;
    if (srcXY.length < 2 * this.pointsNeeded || dstXY.length < 2 * this.pointsNeeded) {
      throw new RangeError(`the mesh needs ${this.pointsNeeded} landmarks (x, y), got ${srcXY.length / 2} source and ${dstXY.length / 2} target`);
    }
    if (offset < 0 || offset + 4 * plane > out.length) throw new RangeError(`the output needs ${4 * plane} floats from ${offset}, it has ${out.length}`);
    if (src.channels < 3 || src.data.length < src.width * src.height * src.channels) {
      throw new RangeError(`the source image has ${src.data.length} values for ${src.width}×${src.height}×${src.channels}`);
    }
    covered.fill(0);

    // Which triangle covers each pixel, and where that pixel comes from in the source.
    for (let t = 0; t < triangles.length; t += 3) {
      const i0 = triangles[t]! * 2, i1 = triangles[t + 1]! * 2, i2 = triangles[t + 2]! * 2;
      const ax = dstXY[i0]!, ay = dstXY[i0 + 1]!;
      const bx = dstXY[i1]!, by = dstXY[i1 + 1]!;
      const cx = dstXY[i2]!, cy = dstXY[i2 + 1]!;
      const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
      if (!(Math.abs(area) >= MIN_AREA)) continue; // degenerate, or not finite
      const x0 = Math.max(Math.ceil(Math.min(ax, bx, cx) - BBOX_EPS), 0);
      const x1 = Math.min(Math.floor(Math.max(ax, bx, cx) + BBOX_EPS), width - 1);
      const y0 = Math.max(Math.ceil(Math.min(ay, by, cy) - BBOX_EPS), 0);
      const y1 = Math.min(Math.floor(Math.max(ay, by, cy) + BBOX_EPS), height - 1);
      if (x0 > x1 || y0 > y1) continue; // outside the crop
      const sax = srcXY[i0]!, say = srcXY[i0 + 1]!;
      const sbx = srcXY[i1]!, sby = srcXY[i1 + 1]!;
      const scx = srcXY[i2]!, scy = srcXY[i2 + 1]!;
      for (let y = y0; y <= y1; y++) {
        const row = y * width;
        for (let x = x0; x <= x1; x++) {
          // The same float64 operations as warp.py, so the edge decisions agree.
          const wa = ((bx - x) * (cy - y) - (cx - x) * (by - y)) / area;
          const wb = ((cx - x) * (ay - y) - (ax - x) * (cy - y)) / area;
          const wc = 1.0 - wa - wb;
          if (wa >= INSIDE_EPS && wb >= INSIDE_EPS && wc >= INSIDE_EPS) {
            const p = row + x;
            covered[p] = 1;
            mapX[p] = wa * sax + wb * sbx + wc * scx;
            mapY[p] = wa * say + wb * sby + wc * scy;
          }
        }
      }
    }

    // Bilinear sampling, as cv2.remap does it for 8-bit images.
    const data = src.data, sw = src.width, sh = src.height, ch = src.channels, stride = sw * ch;
    const r = offset, g = offset + plane, b = offset + 2 * plane, m = offset + 3 * plane;
    let count = 0;
    for (let p = 0; p < plane; p++) {
      if (!covered[p]) {
        out[r + p] = 0; out[g + p] = 0; out[b + p] = 0; out[m + p] = 0;
        continue;
      }
      count++;
      const X = subpixel(mapX[p]!), Y = subpixel(mapY[p]!);
      const sx = X >> 5, sy = Y >> 5, fx = X & (TAB - 1), fy = Y & (TAB - 1);
      // Integer weights summing to 32768 (INTER_REMAP_COEF_SCALE): exact for a 1/32 grid.
      const w00 = (TAB - fx) * (TAB - fy) * TAB, w01 = fx * (TAB - fy) * TAB;
      const w10 = (TAB - fx) * fy * TAB, w11 = fx * fy * TAB;
      let sr = 16384, sg = 16384, sb = 16384; // rounding: + 2^14, then >> 15
      if (sx >= 0 && sy >= 0 && sx < sw - 1 && sy < sh - 1) {
        const q = sy * stride + sx * ch, q2 = q + stride;
        sr += data[q]! * w00 + data[q + ch]! * w01 + data[q2]! * w10 + data[q2 + ch]! * w11;
        sg += data[q + 1]! * w00 + data[q + ch + 1]! * w01 + data[q2 + 1]! * w10 + data[q2 + ch + 1]! * w11;
        sb += data[q + 2]! * w00 + data[q + ch + 2]! * w01 + data[q2 + 2]! * w10 + data[q2 + ch + 2]! * w11;
      } else {
        // At or beyond the source's border: taps outside read 0.
        for (let k = 0; k < 4; k++) {
          const tx = sx + (k & 1), ty = sy + (k >> 1);
          if (tx < 0 || ty < 0 || tx >= sw || ty >= sh) continue;
          const w = k === 0 ? w00 : k === 1 ? w01 : k === 2 ? w10 : w11;
          const q = ty * stride + tx * ch;
          sr += data[q]! * w; sg += data[q + 1]! * w; sb += data[q + 2]! * w;
        }
      }
      out[r + p] = (sr >> 15) / 255;
      out[g + p] = (sg >> 15) / 255;
      out[b + p] = (sb >> 15) / 255;
      out[m + p] = 1;
    }
    return count;
  }
}

/** Far enough outside any source (cv2 saturates there too) to read 0, and safe for 32-bit shifts. */
const FAR = -(1 << 24);

/** A sample coordinate in 1/32 pixels: cvRound (nearest, halves to even, as lrint); FAR when not finite or absurd. */
function subpixel(v: number): number {
  const s = v * TAB;
  if (!(s > FAR && s < -FAR)) return FAR;
  const r = Math.round(s);
  return r - s === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}
