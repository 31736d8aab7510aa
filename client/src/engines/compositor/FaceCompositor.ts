// The compositor both engines paste through. An engine hands it a face image
// (the identity photo for `mesh`, the generated crop for `idn`) and where each
// landmark is in it; the compositor draws that image on the face mesh at the
// target's landmarks (compositor/program.ts) and pastes it over the frame
// through the mesh's feathered oval, never a crop's rectangle.
//
// Per frame it reads the frame's face box once, at a few dozen pixels: the
// target's skin at each landmark (face/composite.ts) gives the colour
// statistics, the shading to move onto the face and the reference the
// per-pixel occluder test compares with, and the same small image is the
// texture that test samples. WebGL draws into a canvas the size of the face's
// box only, and the output is a 2D canvas: the frame drawn as it is, the face's
// box drawn over it. Without a GPU, WebGL is SwiftShader in another process,
// where full-frame passes and read-backs cost more than the rest of the frame.
import { colourTransfer, type ColourStats, type ColourTransfer } from '@guise/face/colour';
import { faceSkin, sampleAt, shadingGains, shadingKernel, TARGET_PASSES, testWeights, type FaceSkin } from '@guise/face/composite';
import { faceBox, type FaceGeometry } from '@guise/face/landmarker';
import * as mesh from '@guise/face/mesh';
import { createBuffer, createTexture } from '../gl.ts';
import type { SwapOptions } from '../types.ts';
import { ATTR, createCompositeProgram } from './program.ts';

const N = mesh.LANDMARK_COUNT;
/** Longest side of the frame's face box as the compositor reads it: enough for skin and glasses frames, cheap to read back. */
const PROBE = 96;
/** A layer's skin is read from a copy whose long side is this: its face fills about as many pixels as the target's box at PROBE. */
const LAYER_PROBE = 128;
/** The target's skin is analysed every this many frames (and for each new face image). */
const ANALYSE_EVERY = 3;
/** Target colour statistics are smoothed over frames, so lighting changes fade in rather than flicker. */
const STATS_EMA = 0.3;
/**
 * Cap on the std ratio of a* and b*: webcam chroma noise and ruddy skin give the
 * target far more spread than a clean photo, and scaling by all of it paints
 * the source's makeup and lips on thick. (Lightness is matched by a gain.)
 */
const MAX_SCALE = 1.3;
/** The face canvas grows in steps of this many pixels, so a moving face doesn't resize it every frame. */
const FACE_CANVAS_STEP = 64;
/** The mouth opening feathers over one ring of the mesh (lips are thin). */
const MOUTH_RINGS = 1;

/** A face image the compositor can paste: its texture, each landmark's place in it, and its skin. */
export interface FaceLayer {
  readonly tex: WebGLTexture;
  /** Texture coordinates of the landmarks, 0..1 (stride 2). */
  readonly uv: WebGLBuffer;
  skin: FaceSkin;
  /** Low-pass weights for its shading, from its first landmarks (face/composite.ts shadingKernel). */
  readonly kernel: Float32Array;
  /** Its skin colours as a vertex attribute (0..1). */
  readonly skinBuffer: WebGLBuffer;
  width: number;
  height: number;
  /**
   * Its pixels already carry the target's light (a generator's output, made
   * from the target's own crop): no colour or shading transfer. Measured: the
   * transfer on the IDN's output cost the judge 0.08 in a call.
   */
  readonly lit: boolean;
}

type Gpu = ReturnType<typeof initGpu>;

function initGpu(gl: WebGL2RenderingContext) {
  // Tessellation, then fills for the eye and mouth openings, which the tessellation leaves as holes.
  const tess = mesh.triangles();
  const eyeFills = [mesh.leftEye(), mesh.rightEye()].flatMap(mesh.fillLoop);
  const indices = new Uint16Array([...tess, ...eyeFills, ...mesh.fillLoop(mesh.innerLips())]);
  const columns = [mesh.featherWeights(), mesh.ringWeights(mesh.innerLips(), MOUTH_RINGS), testWeights()];
  const weights = Float32Array.from({ length: N * 3 }, (_, i) => columns[i % 3]![Math.floor(i / 3)]!);

  const vao = gl.createVertexArray();
  gl.bindVertexArray(vao);
  const attrib = (loc: number, size: number, buffer: WebGLBuffer) => {
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 0, 0); // reads the buffer just bound
    return buffer;
  };
  const buffers = [
    attrib(ATTR.weight, 3, createBuffer(gl, gl.ARRAY_BUFFER, weights)),
    createBuffer(gl, gl.ELEMENT_ARRAY_BUFFER, indices),
  ];
  const pos = attrib(ATTR.pos, 3, createBuffer(gl, gl.ARRAY_BUFFER, new Float32Array(N * 3), gl.DYNAMIC_DRAW));
  const targetSkin = attrib(ATTR.targetSkin, 4, createBuffer(gl, gl.ARRAY_BUFFER, new Float32Array(N * 4), gl.DYNAMIC_DRAW));
  // uv and source skin point at a layer's buffers (useLayer); enabled attributes without a buffer fail every draw.
  gl.enableVertexAttribArray(ATTR.uv);
  gl.enableVertexAttribArray(ATTR.sourceSkin);
  gl.bindVertexArray(null);
  return {
    gl, vao, pos, targetSkin, buffers, program: createCompositeProgram(gl), count: indices.length, frameTex: createTexture(gl),
    eyes: { first: tess.length, count: eyeFills.length },
  };
}

export class FaceCompositor {
  /** WebGL draws the face here, in its top-left corner: the face's box, with the mask in alpha. */
  private readonly canvas = new OffscreenCanvas(1, 1);
  /** The output picture: the frame, with the face canvas drawn over the face's box. */
  private readonly out = new OffscreenCanvas(1, 1);
  private outCtx: OffscreenCanvasRenderingContext2D | null = null;
  /** The frame's face box, small: read for the target's skin, uploaded for the occluder test. */
  private readonly probe = new OffscreenCanvas(1, 1);
  private probeCtx: OffscreenCanvasRenderingContext2D | null = null;
  private probePixels: Uint8ClampedArray | undefined;
  private gpu: Gpu | null = null;
  private readonly layers = new Set<FaceLayer>();
  /** The target's smoothed colour statistics; reset with the frame size. */
  private targetStats: ColourStats | null = null;
  /** The last analysis of the target: for which face image's skin, whether relit, and the per-vertex attribute it gave. */
  private analysed: { layerSkin: FaceSkin; relight: boolean; attribute: Float32Array } | undefined;
  private frameNo = 0;
  private disposed = false;
  /** The last frame's ms: reading the target and drawing the face (`draw`), and pasting it over the frame (`paste`). */
  readonly timings = { drawMs: 0, pasteMs: 0 };
  /** Called when a lost context is restored: every GL object died with the old one. */
  onRestored: () => void = () => {};

  constructor() {
    // preventDefault lets the browser restore a lost context.
    this.canvas.addEventListener('webglcontextlost', (e) => e.preventDefault());
    this.canvas.addEventListener('webglcontextrestored', () => {
      this.gpu = null;
      this.layers.clear();
      this.targetStats = null;
      this.onRestored();
    });
  }

  private init(): Gpu {
    if (this.disposed) throw new Error('compositor is disposed');
    if (this.gpu) return this.gpu;
    // Alpha is the paste-back mask, straight (not premultiplied) as the shader writes it; depth for the folded mesh.
    const gl = this.canvas.getContext('webgl2', { alpha: true, premultipliedAlpha: false, depth: true, stencil: false, antialias: false });
    if (!gl) throw new Error('WebGL2 is not available');
    return (this.gpu = initGpu(gl));
  }

  /**
   * A face image to paste: RGBA pixels (alpha: the image's own mask) and each
   * landmark's x, y in its pixels (stride 2). Its skin is read from the same pixels.
   */
  createLayer(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, landmarks: Float32Array, lit = false): FaceLayer {
    const { gl } = this.init();
    const layer: FaceLayer = {
      tex: createTexture(gl, width, height, rgba),
      uv: createBuffer(gl, gl.ARRAY_BUFFER, new Float32Array(N * 2), gl.DYNAMIC_DRAW),
      skinBuffer: createBuffer(gl, gl.ARRAY_BUFFER, new Float32Array(N * 3), gl.DYNAMIC_DRAW),
      skin: skinOf(rgba, width, height, landmarks),
      kernel: shadingKernel(landmarks),
      width,
      height,
      lit,
    };
    this.setLandmarks(layer, landmarks);
    this.uploadSkin(layer);
    this.layers.add(layer);
    return layer;
  }

  /** New pixels for a layer (the IDN's next generated face), same size; its skin is read again at `landmarks`. */
  updateLayer(layer: FaceLayer, rgba: Uint8Array | Uint8ClampedArray, landmarks: Float32Array): void {
    const { gl } = this.init();
    gl.bindTexture(gl.TEXTURE_2D, layer.tex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, layer.width, layer.height, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
    layer.skin = skinOf(rgba, layer.width, layer.height, landmarks);
    this.uploadSkin(layer);
    this.setLandmarks(layer, landmarks);
  }

  /** Where the landmarks are in the layer's pixels (the IDN's crop moves with each frame's alignment). */
  setLandmarks(layer: FaceLayer, landmarks: Float32Array): void {
    const { gl } = this.init();
    const uv = Float32Array.from({ length: N * 2 }, (_, i) => landmarks[i]! / (i % 2 ? layer.height : layer.width));
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.uv);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, uv);
  }

  private uploadSkin(layer: FaceLayer): void {
    const { gl } = this.init();
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.skinBuffer);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, layer.skin.expected.map((c) => c / 255));
  }

  deleteLayer(layer: FaceLayer): void {
    if (!this.layers.delete(layer) || !this.gpu) return;
    const { gl } = this.gpu;
    gl.deleteTexture(layer.tex);
    gl.deleteBuffer(layer.uv);
    gl.deleteBuffer(layer.skinBuffer);
  }

  /** Draws `frame` with `layer` pasted onto `face` into the output canvas, sized to the frame, and returns it. */
  composite(frame: VideoFrame | ImageBitmap, face: FaceGeometry, layer: FaceLayer, options: SwapOptions): OffscreenCanvas {
    const g = this.init();
    const { gl } = g;
    const out = this.out;
    const t0 = performance.now();
    const width = 'displayWidth' in frame ? frame.displayWidth : frame.width;
    const height = 'displayHeight' in frame ? frame.displayHeight : frame.height;
    if (out.width !== width || out.height !== height) {
      [out.width, out.height] = [width, height];
      this.targetStats = null;
    }
    const ctx = this.outCtx ??= out.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('2D canvas is not available');

    // The face's box in frame pixels (top-left origin), a pixel wider than the
    // landmarks; k converts landmark pixels to frame pixels.
    const [kx, ky] = [width / face.width, height / face.height];
    const b = faceBox(face);
    const x0 = clamp(Math.floor(b.x * kx) - 1, 0, width), x1 = clamp(Math.ceil((b.x + b.width) * kx) + 1, 0, width);
    const y0 = clamp(Math.floor(b.y * ky) - 1, 0, height), y1 = clamp(Math.ceil((b.y + b.height) * ky) + 1, 0, height);
    const [w, h] = [x1 - x0, y1 - y0];
    if (gl.isContextLost() || w < 2 || h < 2 || !this.layers.has(layer)) {
      ctx.drawImage(frame, 0, 0); // the frame as it is
      return out;
    }
    const view = [x0 / kx, y0 / ky, w / kx, h / ky] as const;

    // The face box, read small: the occluder test's texture every frame, the
    // target's skin (colour, light, the test's reference) every few frames or
    // for a new face image, since light changes slowly and the maths is CPU time.
    this.drawProbe(frame, [x0, y0, w, h]);
    const relight = options.colourMatch && !layer.lit;
    if (this.frameNo++ % ANALYSE_EVERY === 0 || this.analysed?.layerSkin !== layer.skin || this.analysed.relight !== relight) {
      const target = this.analyseProbe(face, view);
      if (options.colourMatch && target.stats.count > 0) {
        this.targetStats = this.targetStats ? blend(this.targetStats, target.stats, STATS_EMA) : target.stats;
      }
      const gains = relight ? shadingGains(layer.skin, target, layer.kernel) : null;
      const attribute = new Float32Array(N * 4);
      for (let v = 0; v < N; v++) attribute.set([target.expected[v * 3]! / 255, target.expected[v * 3 + 1]! / 255, target.expected[v * 3 + 2]! / 255, gains ? gains[v]! : 1], v * 4);
      this.analysed = { layerSkin: layer.skin, relight, attribute };
    }
    const transfer = relight && this.targetStats ? transferFor(layer.skin.stats, this.targetStats) : null;
    const targetSkin = this.analysed!.attribute;

    gl.bindVertexArray(g.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, g.pos);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, face.points, 0, Math.min(face.points.length, N * 3));
    gl.bindBuffer(gl.ARRAY_BUFFER, g.targetSkin);
    gl.bufferSubData(gl.ARRAY_BUFFER, 0, targetSkin);
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.uv);
    gl.vertexAttribPointer(ATTR.uv, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.skinBuffer);
    gl.vertexAttribPointer(ATTR.sourceSkin, 3, gl.FLOAT, false, 0, 0);
    // From the bytes drawProbe read, which the analysis reads too.
    gl.bindTexture(gl.TEXTURE_2D, g.frameTex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, this.probe.width, this.probe.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, this.probePixels!);

    // Into the face canvas's top-left w × h (framebuffer rows count up from the bottom).
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
    g.program.draw({
      tex: layer.tex, frame: g.frameTex, size: [face.width, face.height], view, transfer, keepMouth: options.keepMouth, skinTests: true,
    }, g.count, options.keepEyes ? g.eyes : undefined);
    gl.disable(gl.SCISSOR_TEST);
    // Flushed now, so the GPU process draws the face while this thread draws the frame.
    gl.flush();
    ctx.drawImage(frame, 0, 0);

    // Paste back: the face canvas over the frame, through its alpha.
    const t1 = performance.now();
    ctx.drawImage(canvas, 0, 0, w, h, x0, y0, w, h);
    this.timings.drawMs = t1 - t0;
    this.timings.pasteMs = performance.now() - t1;
    return out;
  }

  /** Draws the frame's face box at PROBE size into the probe canvas. */
  private drawProbe(frame: VideoFrame | ImageBitmap, box: readonly [number, number, number, number]): void {
    const [x0, y0, w, h] = box;
    const scale = Math.min(1, PROBE / Math.max(w, h));
    const [pw, ph] = [Math.max(2, Math.round(w * scale)), Math.max(2, Math.round(h * scale))];
    const probe = this.probe;
    if (probe.width !== pw || probe.height !== ph) [probe.width, probe.height] = [pw, ph];
    const pctx = this.probeCtx ??= probe.getContext('2d', { willReadFrequently: true });
    if (!pctx) throw new Error('2D canvas is not available');
    pctx.imageSmoothingQuality = 'medium';
    pctx.drawImage(frame, x0, y0, w, h, 0, 0, pw, ph);
    this.probePixels = pctx.getImageData(0, 0, pw, ph).data;
  }

  /** The target's skin at the landmarks, from the probe. */
  private analyseProbe(face: FaceGeometry, view: readonly [number, number, number, number]): FaceSkin {
    const { width: pw, height: ph } = this.probe;
    const xy = new Float32Array(N * 2);
    for (let v = 0; v < N; v++) {
      xy[v * 2] = ((face.points[v * 3]! - view[0]) / view[2]) * pw;
      xy[v * 2 + 1] = ((face.points[v * 3 + 1]! - view[1]) / view[3]) * ph;
    }
    return faceSkin(sampleAt(this.probePixels!, pw, ph, xy), TARGET_PASSES);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const layer of [...this.layers]) this.deleteLayer(layer);
    const g = this.gpu;
    if (g) {
      const { gl } = g;
      gl.deleteProgram(g.program.program);
      for (const b of [g.pos, g.targetSkin, ...g.buffers]) gl.deleteBuffer(b);
      gl.deleteVertexArray(g.vao);
      gl.deleteTexture(g.frameTex);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this.gpu = null;
    this.disposed = true;
  }
}

/**
 * The skin of a face image, read from a copy scaled down like the target's
 * box: single full-resolution pixels would bring pores and highlights into
 * the statistics that the target's averaged pixels don't have.
 */
function skinOf(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, landmarks: Float32Array): FaceSkin {
  const scale = Math.min(1, LAYER_PROBE / Math.max(width, height));
  if (scale === 1) return faceSkin(sampleAt(rgba, width, height, landmarks));
  const [sw, sh] = [Math.max(2, Math.round(width * scale)), Math.max(2, Math.round(height * scale))];
  const full = new OffscreenCanvas(width, height);
  const opaque = Uint8ClampedArray.from(rgba);
  for (let i = 3; i < opaque.length; i += 4) opaque[i] = 255; // the colour where the image's own mask is low, not black
  full.getContext('2d')!.putImageData(new ImageData(opaque, width, height), 0, 0);
  const small = new OffscreenCanvas(sw, sh).getContext('2d', { willReadFrequently: true })!;
  small.imageSmoothingQuality = 'high';
  small.drawImage(full, 0, 0, sw, sh);
  return faceSkin(sampleAt(small.getImageData(0, 0, sw, sh).data, sw, sh, landmarks.map((c, i) => c * (i % 2 ? sh / height : sw / width))));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function roundUp(v: number, step: number): number {
  return Math.ceil(v / step) * step;
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
