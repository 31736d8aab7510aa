// The classical `mesh` engine: the identity photo's face, cut out once, is
// drawn on MediaPipe's face-mesh triangulation at the target's landmarks,
// colour-matched to the frame and pasted back through a feathered mask.
// The face is drawn by WebGL2 into a canvas the size of the face's box only,
// and the output picture is a 2D canvas: the frame drawn as it is, the face's
// box drawn over it. Without a GPU, WebGL is SwiftShader in another process:
// full-frame passes and read-backs through it cost more than the whole rest
// of the frame (measured in a two-browser call: 7.7–9.4 → 12.8–14.8 fps for
// this change alone).
import { colourTransfer, labStats, type ColourStats, type ColourTransfer } from '@guise/face/colour';
import * as mesh from '@guise/face/mesh';
import { tensor, type IdentityPack, type PackTensor } from '@guise/face/pack';
import { createBuffer, createTexture } from '../gl.ts';
import type { FaceGeometry } from '@guise/face/landmarker';
import type { Engine, EngineTimings, SwapOptions } from '../types.ts';
import { createStatsProgram } from './programs/stats.ts';
import { ATTR, createWarpProgram } from './programs/warp.ts';

const N = mesh.LANDMARK_COUNT;
/** Context around the landmarks' bounding box kept in the identity texture. */
const CROP_MARGIN = 0.15;
/** Longest side of the identity texture; a smaller face keeps its own resolution. */
const MAX_TEXTURE = 512;
/** Target colour stats are measured every few frames only (the face is uploaded and read back)… */
const STATS_EVERY = 5;
/** …and smoothed, so lighting changes fade in rather than flicker. */
const STATS_EMA = 0.3;
/**
 * Cap on the std ratio of a* and b*: webcam chroma noise and ruddy skin give the
 * target far more spread than a clean photo, and scaling by all of it paints
 * the source's makeup and lips on thick. (Lightness is matched by a gain.)
 */
const MAX_SCALE = 1.3;
/** The face canvas grows in steps of this many pixels, so a moving face doesn't resize it every frame. */
const FACE_CANVAS_STEP = 64;
/** Eye openings feather over two rings of the mesh, the mouth over one (lips are thin). */
const EYE_RINGS = 2;
const MOUTH_RINGS = 1;

interface PackGpu {
  tex: WebGLTexture;
  uv: WebGLBuffer;
  source: ColourStats;
}

type Gpu = ReturnType<typeof initGpu>;

/** The face's box this frame: frame pixels (top-left origin), and in the landmarks' pixels (view: x, y, w, h; faceBox: the landmarks' bounds). */
interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
  view: [number, number, number, number];
  faceBox: [number, number, number, number];
}

function initGpu(gl: WebGL2RenderingContext) {
  // Tessellation first (the stats pass draws only that), then fills for the
  // eye and mouth openings, which the tessellation leaves as holes.
  const tess = mesh.triangles();
  const fills = [mesh.leftEye(), mesh.rightEye(), mesh.innerLips()].flatMap(mesh.fillLoop);
  const indices = new Uint16Array([...tess, ...fills]);

  // Per-vertex (oval feather, eye cut, mouth cut, skin): the warp shader
  // masks with the min of the cuts the options enable; stats measure skin.
  const columns = [
    mesh.featherWeights(),
    mesh.ringWeights([...mesh.leftEye(), ...mesh.rightEye()], EYE_RINGS),
    mesh.ringWeights(mesh.innerLips(), MOUTH_RINGS),
    mesh.skinWeights(),
  ];
  const weights = Float32Array.from({ length: N * 4 }, (_, i) => columns[i % 4]![i >> 2]!);

  const vao = gl.createVertexArray();
  gl.bindVertexArray(vao);
  const attrib = (loc: number, size: number, buffer: WebGLBuffer) => {
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 0, 0); // reads the buffer just bound
    return buffer;
  };
  const buffers = [
    attrib(ATTR.weight, 4, createBuffer(gl, gl.ARRAY_BUFFER, weights)),
    createBuffer(gl, gl.ELEMENT_ARRAY_BUFFER, indices),
  ];
  const pos = attrib(ATTR.pos, 3, createBuffer(gl, gl.ARRAY_BUFFER, new Float32Array(N * 3), gl.DYNAMIC_DRAW));
  gl.enableVertexAttribArray(ATTR.uv); // pointed at a pack's uv buffer by useUv()
  gl.bindVertexArray(null);

  return {
    gl, vao, pos, buffers,
    warp: createWarpProgram(gl),
    stats: createStatsProgram(gl),
    tessCount: tess.length,
    allCount: indices.length,
    /** The frame's face box, uploaded when the target's colour is measured. */
    faceTex: createTexture(gl),
  };
}

export class MeshEngine implements Engine {
  readonly kind = 'mesh' as const;
  readonly timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  /** WebGL draws the warped face here, in its top-left corner: the face's box, with the mask in alpha. */
  private readonly canvas = new OffscreenCanvas(1, 1);
  /** The output picture: the frame, with the face canvas drawn over the face's box. */
  private readonly out = new OffscreenCanvas(1, 1);
  private outCtx: OffscreenCanvasRenderingContext2D | null = null;
  private gpu: Gpu | null = null;
  private readonly packs = new Map<IdentityPack, PackGpu>();
  /** The target face's smoothed Lab stats; reset with the frame size. */
  private target: ColourStats | null = null;
  private frameNo = 0;
  private disposed = false;

  private constructor() {
    // preventDefault lets the browser restore a lost context; every GL object
    // died with the old one, so start over lazily.
    this.canvas.addEventListener('webglcontextlost', (e) => e.preventDefault());
    this.canvas.addEventListener('webglcontextrestored', () => {
      this.gpu = null;
      this.packs.clear();
      this.target = null;
    });
  }

  /** The GL context and programs are made on the first identity or frame. */
  static async create(): Promise<MeshEngine> {
    return new MeshEngine();
  }

  private init(): Gpu {
    if (this.disposed) throw new Error('mesh engine is disposed');
    if (this.gpu) return this.gpu;
    // Alpha is the paste-back mask, straight (not premultiplied) as the warp writes it; depth for the folded mesh.
    const gl = this.canvas.getContext('webgl2', { alpha: true, premultipliedAlpha: false, depth: true, stencil: false, antialias: false });
    if (!gl) throw new Error('WebGL2 is not available');
    return (this.gpu = initGpu(gl));
  }

  async prepareIdentity(photo: ImageBitmap, face: FaceGeometry, label: string): Promise<IdentityPack> {
    // Landmarks → photo pixels (the geometry may come from a resized copy).
    const [sx, sy] = [photo.width / face.width, photo.height / face.height];
    const [bx0, by0, bx1, by1] = bounds(face.points, N);
    const [mx, my] = [(bx1 - bx0) * sx * CROP_MARGIN, (by1 - by0) * sy * CROP_MARGIN];
    const cx = Math.max(0, Math.floor(bx0 * sx - mx));
    const cy = Math.max(0, Math.floor(by0 * sy - my));
    const cw = Math.min(photo.width, Math.ceil(bx1 * sx + mx)) - cx;
    const ch = Math.min(photo.height, Math.ceil(by1 * sy + my)) - cy;
    if (!(cw > 1 && ch > 1)) throw new Error('the face is not inside the photo');
    const scale = Math.min(1, MAX_TEXTURE / Math.max(cw, ch));
    const [tw, th] = [Math.max(1, Math.round(cw * scale)), Math.max(1, Math.round(ch * scale))];

    const ctx = new OffscreenCanvas(tw, th).getContext('2d');
    if (!ctx) throw new Error('2D canvas is not available');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(photo, cx, cy, cw, ch, 0, 0, tw, th);
    const uv = new Float32Array(N * 2);
    for (let i = 0; i < N; i++) {
      uv[i * 2] = (face.points[i * 3]! * sx - cx) / cw;
      uv[i * 2 + 1] = (face.points[i * 3 + 1]! * sy - cy) / ch;
    }
    const pack: IdentityPack = {
      engine: 'mesh',
      label,
      createdAt: new Date().toISOString(),
      meta: { crop: [cx, cy, cw, ch], photo: [photo.width, photo.height] },
      tensors: [
        { name: 'texture', dtype: 'u8', shape: [th, tw, 4], data: new Uint8Array(ctx.getImageData(0, 0, tw, th).data.buffer) },
        { name: 'uv', dtype: 'f32', shape: [N, 2], data: uv },
      ],
    };
    // Measured on the GPU exactly like the target side, then stored so a
    // reloaded pack needn't measure again. Row 0 Lab mean, row 1 Lab std.
    const { source } = this.ensurePack(pack);
    if (source.count > 0) {
      pack.tensors.push({ name: 'lab', dtype: 'f32', shape: [2, 3], data: Float32Array.from([...source.mean, ...source.std]) });
    }
    return pack;
  }

  private ensurePack(pack: IdentityPack): PackGpu {
    const known = this.packs.get(pack);
    if (known) return known;
    const g = this.init();
    const { gl } = g;
    const texture = need(pack, 'texture', 'u8', [null, null, 4]);
    const uv = need(pack, 'uv', 'f32', [N, 2]);
    const [th, tw] = texture.shape as [number, number];
    const tex = createTexture(gl, tw, th, texture.data);
    const uvBuf = createBuffer(gl, gl.ARRAY_BUFFER, uv.data);
    useUv(g, uvBuf); // an enabled attribute without a buffer fails every draw

    let source: ColourStats;
    const lab = pack.tensors.find((t) => t.name === 'lab');
    if (lab?.dtype === 'f32' && lab.data.length === 6) {
      const d = lab.data;
      source = { mean: [d[0]!, d[1]!, d[2]!], std: [d[3]!, d[4]!, d[5]!], count: 1 };
    } else {
      const px = new Float32Array(N * 3);
      for (let i = 0; i < N; i++) px.set([uv.data[i * 2]! * tw, uv.data[i * 2 + 1]! * th, 0], i * 3);
      upload(g, px);
      source = labStats(g.stats.read(tex, [0, 0, tw, th], bounds(px, 468), g.tessCount));
    }
    const p = { tex, uv: uvBuf, source };
    this.packs.set(pack, p);
    return p;
  }

  swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): OffscreenCanvas {
    const g = this.init();
    const { gl } = g;
    const out = this.out;
    const t0 = performance.now();
    const width = 'displayWidth' in frame ? frame.displayWidth : frame.width;
    const height = 'displayHeight' in frame ? frame.displayHeight : frame.height;
    if (out.width !== width || out.height !== height) {
      [out.width, out.height] = [width, height];
      this.target = null;
    }
    const ctx = this.outCtx ??= out.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('2D canvas is not available');

    // The face's box in frame pixels (x0, y0, x1, y1, top-left origin), a pixel
    // wider than the landmarks; k converts landmark pixels to frame pixels.
    const [kx, ky] = [width / face.width, height / face.height];
    const faceBox = bounds(face.points, 468);
    const x0 = clamp(Math.floor(faceBox[0] * kx) - 1, 0, width), x1 = clamp(Math.ceil(faceBox[2] * kx) + 1, 0, width);
    const y0 = clamp(Math.floor(faceBox[1] * ky) - 1, 0, height), y1 = clamp(Math.ceil(faceBox[3] * ky) + 1, 0, height);
    const [w, h] = [x1 - x0, y1 - y0];
    if (gl.isContextLost() || w < 2 || h < 2) {
      ctx.drawImage(frame, 0, 0); // the frame as it is (until the context is restored)
      return out;
    }
    const box: Box = { x0, y0, w, h, view: [x0 / kx, y0 / ky, w / kx, h / ky], faceBox };
    const p = this.ensurePack(pack);
    useUv(g, p.uv);
    upload(g, face.points);

    // c. colour: the target side is measured on the face's box, every few frames,
    // and smoothed; a measurement made after the warp is issued serves the next frame.
    const measure = options.colourMatch && (!this.target || this.frameNo % STATS_EVERY === 0);
    let frameDrawn = false;
    if (measure && !this.target) {
      ctx.drawImage(frame, 0, 0);
      frameDrawn = true;
      this.measureTarget(g, ctx, box);
    }
    const transfer = options.colourMatch && this.target ? transferFor(p.source, this.target) : null;
    this.frameNo++;

    // a + b. warp with the mask in alpha, into the face canvas's top-left w × h
    // (framebuffer rows count up from the bottom). Flushed now, so the GPU
    // process draws it while this thread draws the frame.
    const canvas = this.canvas;
    if (canvas.width < w || canvas.height < h || canvas.width > w + 2 * FACE_CANVAS_STEP || canvas.height > h + 2 * FACE_CANVAS_STEP) {
      [canvas.width, canvas.height] = [roundUp(w, FACE_CANVAS_STEP), roundUp(h, FACE_CANVAS_STEP)];
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, canvas.height - h, w, h);
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(0, canvas.height - h, w, h);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    const { keepEyes, keepMouth } = options;
    g.warp.draw({ tex: p.tex, size: [face.width, face.height], view: box.view, transfer, keepEyes, keepMouth }, g.allCount);
    gl.disable(gl.SCISSOR_TEST);
    gl.flush();

    if (!frameDrawn) {
      ctx.drawImage(frame, 0, 0);
      if (measure) this.measureTarget(g, ctx, box);
    }
    const t1 = performance.now();

    // d. paste back: the face canvas over the frame, through its alpha.
    ctx.drawImage(canvas, 0, 0, w, h, x0, y0, w, h);
    this.timings.engineMs = t1 - t0;
    this.timings.pasteMs = performance.now() - t1;
    return out;
  }

  /** Measures the target face's colour on the frame's face box (drawn in `ctx`, not yet pasted over) and folds it into the smoothed stats. */
  private measureTarget(g: Gpu, ctx: OffscreenCanvasRenderingContext2D, box: Box): void {
    const { gl } = g;
    gl.bindTexture(gl.TEXTURE_2D, g.faceTex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, box.w, box.h, 0, gl.RGBA, gl.UNSIGNED_BYTE, ctx.getImageData(box.x0, box.y0, box.w, box.h).data);
    const s = labStats(g.stats.read(g.faceTex, box.view, box.faceBox, g.tessCount));
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    if (s.count > 0) this.target = this.target ? blend(this.target, s, STATS_EMA) : s;
  }

  forget(pack: IdentityPack): void {
    const p = this.packs.get(pack);
    if (!p || !this.gpu) return;
    this.gpu.gl.deleteTexture(p.tex);
    this.gpu.gl.deleteBuffer(p.uv);
    this.packs.delete(pack);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const pack of [...this.packs.keys()]) this.forget(pack);
    const g = this.gpu;
    if (g) {
      const { gl } = g;
      gl.deleteProgram(g.warp.program);
      g.stats.dispose();
      for (const b of [g.pos, ...g.buffers]) gl.deleteBuffer(b);
      gl.deleteVertexArray(g.vao);
      gl.deleteTexture(g.faceTex);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this.gpu = null;
    this.disposed = true;
  }
}

function need(pack: IdentityPack, name: string, dtype: PackTensor['dtype'], shape: (number | null)[]): PackTensor {
  const t = tensor(pack, name);
  const ok = t.dtype === dtype && t.shape.length === shape.length && shape.every((s, i) => s === null || s === t.shape[i]);
  if (!ok) throw new Error(`mesh pack "${pack.label}": tensor ${name} must be ${dtype} [${shape.map((s) => s ?? '?')}]`);
  return t;
}

function upload(g: Gpu, points: Float32Array): void {
  g.gl.bindBuffer(g.gl.ARRAY_BUFFER, g.pos);
  g.gl.bufferSubData(g.gl.ARRAY_BUFFER, 0, points, 0, Math.min(points.length, N * 3));
}

/** Points the VAO's uv attribute at a pack's buffer (and leaves the VAO bound). */
function useUv(g: Gpu, buffer: WebGLBuffer): void {
  g.gl.bindVertexArray(g.vao);
  g.gl.bindBuffer(g.gl.ARRAY_BUFFER, buffer);
  g.gl.vertexAttribPointer(ATTR.uv, 2, g.gl.FLOAT, false, 0, 0);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function roundUp(v: number, step: number): number {
  return Math.ceil(v / step) * step;
}

/** Bounding box [x0, y0, x1, y1] of the first `count` interleaved x, y, z points. */
function bounds(points: Float32Array, count: number): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < count * 3; i += 3) {
    const [x, y] = [points[i]!, points[i + 1]!];
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  return [x0, y0, x1, y1];
}

/**
 * Reinhard transfer, except that lightness is matched by a gain (L·k) rather
 * than a shift: a darker frame is an exposure change, and a shift with the
 * std kept crushes the dark features (brows, lashes, eyeliner) to black.
 */
function transferFor(source: ColourStats, target: ColourStats): ColourTransfer {
  const t = colourTransfer(source, target, MAX_SCALE);
  if (source.count > 0 && target.count > 0 && source.mean[0] > 1) {
    t.scale[0] = Math.min(2, Math.max(0.5, target.mean[0] / source.mean[0]));
    t.offset[0] = 0;
  }
  return t;
}

/** Exponential moving average of colour stats. */
function blend(a: ColourStats, b: ColourStats, k: number): ColourStats {
  const mix = (x: number[], y: number[]) => x.map((v, i) => v + (y[i]! - v) * k) as [number, number, number];
  return { mean: mix(a.mean, b.mean), std: mix(a.std, b.std), count: b.count };
}
