// The neural `idn` engine: MobileFaceSwap's IDN on onnxruntime-web. Once per
// identity, identity.onnx + conditioner.onnx turn the source face into the 18
// per-identity tensors (the pack: @guise/face/idn/conditioning); per frame,
// generator.onnx swaps the aligned target crop with them, and the shared
// compositor (engines/compositor) pastes the crop back through the face
// oval and the crop's own mask (its light is the target's already). The warp-guided variant (manifest
// guide_channels = 4) also gets, per frame, the source face warped onto the
// target's landmarks (@guise/face/idn/guide). onnxruntime-web runs in the
// engine's own worker (idn.worker.ts, through IdnSessions), beside the frame
// loop: a frame waits for the generator only for a new identity.
import type { Affine } from '@guise/face/align';
import { alignedPixels, drawAligned, planarToRgba, rgbaToPlanar } from '@guise/face/crop';
import { IDENTITY_CROP } from '@guise/face/idn/conditioning';
import { checkGuideChannels, guideSource, landmarksToCrop, type GuideSource } from '@guise/face/idn/guide';
import { fetchIdnManifest, type IdnModel } from '@guise/face/idn/manifest';
import { idnPackProblem } from '@guise/face/idn/packFit';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { alignFace, type FaceGeometry } from '@guise/face/landmarker';
import * as mesh from '@guise/face/mesh';
import { float16BitsToFloat32, tensor, type IdentityPack } from '@guise/face/pack';
import { TriangleWarp } from '@guise/face/triangleWarp';
import { FaceCompositor, type FaceLayer } from '../compositor/FaceCompositor.ts';
import type { Engine, EngineTimings, IdnBackend, SwapOptions } from '../types.ts';
import { IdnSessions, type IdnAssets, type ModelLoad } from './IdnSessions.ts';

/**
 * The share of time the generator may run while frames reuse its newest face:
 * after a run it rests as long again. Running flat out, it took the CPU the
 * call itself needs (encoding, decoding) and the receiver's latency grew
 * (`pnpm bench`).
 */
const GENERATOR_DUTY = 0.5;

/** What the engine keeps per identity, made on the pack's first frame. */
interface Identity {
  /** Its number in the idn worker, once its tensors are there. */
  id: Promise<number>;
  /** The warp guide's source, for a guided model. */
  guide?: GuideSource;
}

/** A generated face, ready to paste: the swapped crop with its feathered mask as alpha, and the landmarks it was made for, in crop pixels. */
interface Face { pack: IdentityPack; image: ImageData; landmarks: Float32Array }

export interface IdnEngineOptions {
  /**
   * Make each frame's face from that frame, waiting for the generator. Off
   * (the camera): the generator runs beside the frame loop, and each frame
   * gets the newest face there is, placed with that frame's own alignment.
   */
  waitForEachFace?: boolean;
}

export class IdnEngine implements Engine {
  readonly kind = 'idn';
  readonly timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  private readonly size: number;
  private readonly crop: OffscreenCanvas;
  private readonly cropCtx: OffscreenCanvasRenderingContext2D;
  private readonly compositor = new FaceCompositor();
  /** The pasted face's pixels in the compositor (one layer, refilled with each face shown). */
  private layer: FaceLayer | undefined;
  /** The generator's input shape. Channels 0-2: the target crop; with the guide, 3-5 the warped source and 6 its mask. */
  private readonly dims: readonly number[];
  private readonly warp: TriangleWarp | undefined;
  private readonly targetLandmarks = new Float64Array(mesh.LANDMARK_COUNT * 2);
  private readonly identities = new Map<IdentityPack, Identity>();
  /** The newest generated face, and the run in flight (at most one). */
  private newest: Face | undefined;
  private running: Promise<Face> | undefined;
  /** No new run starts before this (performance.now() ms): see GENERATOR_DUTY. */
  private restUntil = 0;
  /** A run nobody waited for that failed: thrown by the next swap. */
  private failure: unknown;
  private pastedFace: Face | undefined;

  private constructor(private readonly model: IdnModel, private readonly sessions: IdnSessions, private readonly options: IdnEngineOptions) {
    const size = model.manifest.crop;
    const channels = 3 + checkGuideChannels(model.manifest.guide_channels, model.manifest.input_channels);
    this.size = size;
    this.crop = new OffscreenCanvas(size, size);
    this.cropCtx = this.crop.getContext('2d', { willReadFrequently: true })!;
    this.dims = [1, channels, size, size];
    this.warp = channels > 3 ? new TriangleWarp(size, size, mesh.triangles()) : undefined;
    this.compositor.onRestored = () => { this.layer = undefined; this.pastedFace = undefined; };
  }

  /**
   * Loads the model at assets.idnModel on `backend` (default: WebGPU where a
   * real adapter exists, else wasm); `onLoad` hears how far getting its files
   * (from the cache or the network) has got.
   */
  static async create(assets: IdnAssets, backend?: IdnBackend, onLoad?: (load: ModelLoad) => void, options: IdnEngineOptions = {}): Promise<IdnEngine> {
    const model = await fetchIdnManifest(assets.idnModel);
    if (!model) throw new Error(`no usable neural swap model at ${assets.idnModel}`);
    checkGuideChannels(model.manifest.guide_channels, model.manifest.input_channels);
    return new IdnEngine(model, await IdnSessions.create(assets, model, backend, onLoad), options);
  }

  async prepareIdentity(photo: ImageBitmap, face: FaceGeometry, label: string): Promise<IdentityPack> {
    const { toCrop } = alignFace(face, IDENTITY_CROP);
    const rgba = alignedPixels(photo, toCrop, IDENTITY_CROP);
    return this.sessions.condition({ rgba, points: face.points, toCrop }, this.model, label);
  }

  async swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): Promise<OffscreenCanvas> {
    const t0 = performance.now();
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
    const { toCrop } = alignFace(face, this.size);
    // This frame's landmarks in its crop: the generator's guide and the paste both use them.
    const landmarks = Float32Array.from(landmarksToCrop(face.points, toCrop, this.targetLandmarks));
    let shown: Face;
    if (this.options.waitForEachFace || this.newest?.pack !== pack) {
      // A face made from this frame: never one of another identity (a switch), nor, when asked, an older one.
      await this.running?.catch(() => {});
      shown = await this.settle(this.start(frame, toCrop, landmarks, pack));
    } else {
      if (!this.running && t0 >= this.restUntil) this.start(frame, toCrop, landmarks, pack);
      shown = this.newest;
    }
    const t1 = performance.now();

    // Paste back: the newest face, placed by this frame's alignment.
    if (!this.layer) this.layer = this.compositor.createLayer(shown.image.data, this.size, this.size, shown.landmarks, true);
    else if (shown !== this.pastedFace) this.compositor.updateLayer(this.layer, shown.image.data, shown.landmarks);
    this.compositor.setLandmarks(this.layer, landmarks);
    const out = this.compositor.composite(frame, face, this.layer, options);
    // The engine's part: waiting for a face (a new identity's first) and drawing it; the paste is the compositor's.
    this.timings.engineMs = t1 - t0 + this.compositor.timings.drawMs;
    this.timings.pasteMs = this.compositor.timings.pasteMs;
    this.timings.newFace = shown !== this.pastedFace;
    this.pastedFace = shown;
    return out;
  }

  packProblem(pack: IdentityPack): string | null {
    return idnPackProblem(pack, this.model);
  }

  forget(pack: IdentityPack): void {
    const identity = this.identities.get(pack);
    this.identities.delete(pack);
    if (this.newest?.pack === pack) this.newest = undefined;
    void identity?.id.then((id) => this.sessions.forget(id), () => {});
  }

  dispose(): void {
    this.identities.clear();
    this.newest = this.pastedFace = this.layer = undefined;
    this.compositor.dispose();
    this.sessions.close();
  }

  /**
   * Starts a generator run on this frame's crop (cut now: the frame is gone by
   * the time it ends); its face becomes the newest when it is back.
   */
  private start(frame: VideoFrame | ImageBitmap, toCrop: Affine, landmarks: Float32Array, pack: IdentityPack): Promise<Face> {
    const { size, cropCtx } = this;
    const identity = this.identity(pack);
    drawAligned(cropCtx, frame, toCrop);
    const input = new Float32Array(this.dims.reduce((a, b) => a * b));
    rgbaToPlanar(cropCtx.getImageData(0, 0, size, size).data, size, input);
    if (this.warp) {
      // The guide, on the same toCrop the crop was cut with.
      const g = identity.guide!;
      this.warp.warp(g.image, g.landmarks, landmarks, input, 3 * size * size);
    }
    const began = performance.now();
    const run = identity.id
      .then((id) => this.sessions.generate(input, this.dims, id))
      .then(({ swapped, mask }) => {
        const ended = performance.now();
        this.restUntil = ended + (ended - began) * (1 / GENERATOR_DUTY - 1);
        const image = new ImageData(size, size);
        planarToRgba(swapped, mask, size, Math.round(size * 0.06), image.data);
        const made = { pack, image, landmarks };
        if (this.identities.has(pack)) this.newest = made; // not forgotten meanwhile
        return made;
      })
      .finally(() => { if (this.running === run) this.running = undefined; });
    run.catch((err: unknown) => { this.failure = err; });
    this.running = run;
    return run;
  }

  /** Waits for a run this frame needs: its failure is this frame's, not the next one's. */
  private async settle(run: Promise<Face>): Promise<Face> {
    try {
      return await run;
    } finally {
      this.failure = undefined;
    }
  }

  /** The pack's per-identity state, made once (its tensors sent to the worker then, its guide source checked). */
  private identity(pack: IdentityPack): Identity {
    let identity = this.identities.get(pack);
    if (!identity) {
      const guide = this.warp ? guideSource(pack) : undefined;
      const tensors = IDENTITY_TENSORS.map((name) => {
        const t = tensor(pack, name);
        const data = t.dtype === 'f16' ? float16BitsToFloat32(t.data as Uint16Array) : Float32Array.from(t.data as Float32Array);
        return { name, dims: t.shape, data };
      });
      identity = { id: this.sessions.addIdentity(tensors), guide };
      identity.id.catch(() => {}); // surfaced by the runs that need it
      this.identities.set(pack, identity);
    }
    return identity;
  }
}
