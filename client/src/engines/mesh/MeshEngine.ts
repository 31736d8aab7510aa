// The classical `mesh` engine: the identity photo's face, cut out once, is
// drawn on MediaPipe's face-mesh triangulation at the target's landmarks,
// colour-matched to the frame and pasted back through a feathered mask.
// WebGL2 on the engine's own OffscreenCanvas, so it runs in a worker.
import { colourTransfer, labStats, type ColourStats, type ColourTransfer } from '@guise/face/colour';
import * as mesh from '@guise/face/mesh';
import { tensor, type IdentityPack, type PackTensor } from '@guise/face/pack';
import { createBuffer, createTarget, createTexture, deleteTarget, type Target } from '../gl.ts';
import type { FaceGeometry } from '@guise/face/landmarker';
import type { Engine, EngineTimings, SwapOptions } from '../types.ts';
import { createCompositeProgram } from './programs/composite.ts';
import { createStatsProgram } from './programs/stats.ts';
import { ATTR, createWarpProgram } from './programs/warp.ts';

const N = mesh.LANDMARK_COUNT;
/** Context around the landmarks' bounding box kept in the identity texture. */
const CROP_MARGIN = 0.15;
/** Longest side of the identity texture; a smaller face keeps its own resolution. */
const MAX_TEXTURE = 512;
/** Target colour stats are read back every few frames only (readPixels stalls)… */
const STATS_EVERY = 5;
/** …and smoothed, so lighting changes fade in rather than flicker. */
const STATS_EMA = 0.3;
/**
 * Cap on the std ratio of a* and b*: webcam chroma noise and ruddy skin give the
 * target far more spread than a clean photo, and scaling by all of it paints
 * the source's makeup and lips on thick. (Lightness is matched by a gain.)
 */
const MAX_SCALE = 1.3;
/** Eye openings feather over two rings of the mesh, the mouth over one (lips are thin). */
const EYE_RINGS = 2;
const MOUTH_RINGS = 1;

interface PackGpu {
  tex: WebGLTexture;
  uv: WebGLBuffer;
  source: ColourStats;
}

type Gpu = ReturnType<typeof initGpu>;

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
    composite: createCompositeProgram(gl),
    tessCount: tess.length,
    allCount: indices.length,
    frameTex: createTexture(gl),
    warpTarget: null as Target | null, // frame-sized, made on the first frame and on size changes
  };
}

export class MeshEngine implements Engine {
  readonly kind = 'mesh' as const;
  readonly timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  private readonly canvas = new OffscreenCanvas(1, 1);
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
    const gl = this.canvas.getContext('webgl2', { alpha: false, depth: false, stencil: false, antialias: false });
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
      source = labStats(g.stats.read(tex, [tw, th], bounds(px, 468), g.tessCount));
    }
    const p = { tex, uv: uvBuf, source };
    this.packs.set(pack, p);
    return p;
  }

  swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): OffscreenCanvas {
    const g = this.init();
    const { gl } = g;
    const canvas = this.canvas;
    if (gl.isContextLost()) return canvas; // keeps the last picture until restored
    const t0 = performance.now();
    const width = 'displayWidth' in frame ? frame.displayWidth : frame.width;
    const height = 'displayHeight' in frame ? frame.displayHeight : frame.height;
    if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
    if (g.warpTarget?.width !== width || g.warpTarget.height !== height) {
      if (g.warpTarget) deleteTarget(gl, g.warpTarget);
      g.warpTarget = createTarget(gl, width, height, true);
      this.target = null;
    }
    const p = this.ensurePack(pack);
    useUv(g, p.uv);
    gl.bindTexture(gl.TEXTURE_2D, g.frameTex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, frame);
    upload(g, face.points);
    const faceBox = bounds(face.points, 468);

    // c. colour: the target side is re-measured every few frames and smoothed.
    let transfer = null;
    if (options.colourMatch) {
      if (!this.target || this.frameNo % STATS_EVERY === 0) {
        const s = labStats(g.stats.read(g.frameTex, [face.width, face.height], faceBox, g.tessCount));
        if (s.count > 0) this.target = this.target ? blend(this.target, s, STATS_EMA) : s;
      }
      if (this.target) transfer = transferFor(p.source, this.target);
    }
    this.frameNo++;

    // a + b. warp with the mask in alpha. Only the face's box is cleared,
    // drawn and (in the composite) read: full-frame passes are what cost on
    // a software GPU. Framebuffer rows count up from the bottom.
    const [kx, ky] = [width / face.width, height / face.height];
    const cx = (x: number) => Math.min(width, Math.max(0, x));
    const cy = (y: number) => Math.min(height, Math.max(0, y));
    const box = [cx(Math.floor(faceBox[0] * kx) - 1), cy(height - Math.ceil(faceBox[3] * ky) - 1),
      cx(Math.ceil(faceBox[2] * kx) + 1), cy(height - Math.floor(faceBox[1] * ky) + 1)] as const;
    gl.bindFramebuffer(gl.FRAMEBUFFER, g.warpTarget.fbo);
    gl.viewport(0, 0, width, height);
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(box[0], box[1], box[2] - box[0], box[3] - box[1]);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    const { keepEyes, keepMouth } = options;
    g.warp.draw({ tex: p.tex, size: [face.width, face.height], transfer, keepEyes, keepMouth }, g.allCount);
    gl.disable(gl.SCISSOR_TEST);
    const t1 = performance.now();

    // d. paste back into the canvas.
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    g.composite.draw(g.frameTex, g.warpTarget.tex, [width, height], box);
    this.timings.engineMs = t1 - t0;
    this.timings.pasteMs = performance.now() - t1;
    return canvas;
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
      gl.deleteProgram(g.composite.program);
      g.stats.dispose();
      for (const b of [g.pos, ...g.buffers]) gl.deleteBuffer(b);
      gl.deleteVertexArray(g.vao);
      gl.deleteTexture(g.frameTex);
      if (g.warpTarget) deleteTarget(gl, g.warpTarget);
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
