// The neural `idn` engine: MobileFaceSwap's IDN on onnxruntime-web. Once per
// identity, identity.onnx + conditioner.onnx turn the source face into the 18
// per-identity tensors (the pack: @guise/face/idn/conditioning); per frame,
// generator.onnx swaps the aligned target crop with them, and the crop is
// pasted back through its mask. The warp-guided variant (manifest
// guide_channels = 4) also gets, per frame, the source face warped onto the
// target's landmarks (@guise/face/idn/guide). The sessions and their one
// queue are IdnSessions'.
import * as ort from 'onnxruntime-web';
import { alignedPixels, drawAligned, planarToRgba, rgbaToPlanar, setAffine } from '@guise/face/crop';
import { IDENTITY_CROP } from '@guise/face/idn/conditioning';
import { checkGuideChannels, guideSource, landmarksToCrop, type GuideSource } from '@guise/face/idn/guide';
import { fetchIdnManifest, type IdnModel } from '@guise/face/idn/manifest';
import { idnPackProblem } from '@guise/face/idn/packFit';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { alignFace, frameSize, type FaceGeometry } from '@guise/face/landmarker';
import * as mesh from '@guise/face/mesh';
import { float16BitsToFloat32, tensor, type IdentityPack } from '@guise/face/pack';
import { TriangleWarp } from '@guise/face/triangleWarp';
import type { Engine, EngineTimings, IdnBackend, SwapOptions } from '../types.ts';
import { IdnSessions, type Feeds, type IdnAssets, type ModelLoad } from './IdnSessions.ts';

/**
 * From this crop size on, each identity also gets its own generator session
 * with its tensors baked in as initializers, built in the background: the
 * runtime pre-packs them. Measured by `pnpm bench` (wasm, 2 threads, median):
 * at 224, 25 ms baked vs 41 ms fed; at 128 baking lost (15 vs 9 ms).
 */
const BAKE_FROM_CROP = 224;

/** What the engine keeps per identity, made on the pack's first frame. */
interface Identity {
  /** The pack's tensors as generator inputs (fp32). */
  feeds: Feeds;
  /** The warp guide's source, for a guided model. */
  guide?: GuideSource;
  /** Its own baked generator: undefined until baking starts (or where it doesn't pay), null while it builds. */
  baked?: ort.InferenceSession | null;
}

export class IdnEngine implements Engine {
  readonly kind = 'idn';
  readonly timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  private readonly size: number;
  private readonly crop: OffscreenCanvas;
  private readonly cropCtx: OffscreenCanvasRenderingContext2D;
  private readonly out = new OffscreenCanvas(1, 1);
  private readonly outCtx = this.out.getContext('2d')!;
  /** The generator's input, reused frame to frame. Channels 0-2: the target crop; with the guide, 3-5 the warped source and 6 its mask. */
  private readonly input: Float32Array;
  private readonly inputTensor: ort.Tensor;
  private readonly warp: TriangleWarp | undefined;
  private readonly targetLandmarks = new Float64Array(mesh.LANDMARK_COUNT * 2);
  private readonly pasted: ImageData;
  private readonly innerLips = mesh.innerLips();
  private readonly identities = new Map<IdentityPack, Identity>();

  private constructor(private readonly model: IdnModel, private readonly sessions: IdnSessions) {
    const size = model.manifest.crop;
    const channels = 3 + checkGuideChannels(model.manifest.guide_channels, model.manifest.input_channels);
    this.size = size;
    this.crop = new OffscreenCanvas(size, size);
    this.cropCtx = this.crop.getContext('2d', { willReadFrequently: true })!;
    this.input = new Float32Array(channels * size * size);
    this.inputTensor = new ort.Tensor('float32', this.input, [1, channels, size, size]);
    this.warp = channels > 3 ? new TriangleWarp(size, size, mesh.triangles()) : undefined;
    this.pasted = new ImageData(size, size);
  }

  /**
   * Loads the model at assets.idnModel on `backend` (default: WebGPU where a
   * real adapter exists, else wasm); `onLoad` hears how far getting its files
   * (from the cache or the network) has got.
   */
  static async create(assets: IdnAssets, backend?: IdnBackend, onLoad?: (load: ModelLoad) => void): Promise<IdnEngine> {
    const model = await fetchIdnManifest(assets.idnModel);
    if (!model) throw new Error(`no usable neural swap model at ${assets.idnModel}`);
    checkGuideChannels(model.manifest.guide_channels, model.manifest.input_channels);
    return new IdnEngine(model, await IdnSessions.create(assets, model, backend, onLoad));
  }

  async prepareIdentity(photo: ImageBitmap, face: FaceGeometry, label: string): Promise<IdentityPack> {
    const { toCrop } = alignFace(face, IDENTITY_CROP);
    const rgba = alignedPixels(photo, toCrop, IDENTITY_CROP);
    return this.sessions.condition({ rgba, points: face.points, toCrop }, this.model, label);
  }

  async swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): Promise<OffscreenCanvas> {
    const { size, cropCtx, outCtx, out } = this;
    const t0 = performance.now();
    const [width, height] = frameSize(frame);
    const { toCrop, toFrame } = alignFace(face, size);
    drawAligned(cropCtx, frame, toCrop);
    rgbaToPlanar(cropCtx.getImageData(0, 0, size, size).data, size, this.input);
    const identity = this.identity(pack);
    if (this.warp) {
      // The guide, on the same toCrop the crop was cut with: counted in engineMs.
      const g = identity.guide!;
      this.warp.warp(g.image, g.landmarks, landmarksToCrop(face.points, toCrop, this.targetLandmarks), this.input, 3 * size * size);
    }
    this.bakeInBackground(pack, identity);
    const { swapped, mask } = await this.sessions.generate(this.inputTensor, identity.feeds, identity.baked ?? undefined);
    const t1 = performance.now();

    // Paste back: the frame, then the swapped crop through its (feathered) mask.
    if (out.width !== width || out.height !== height) { out.width = width; out.height = height; }
    outCtx.setTransform(1, 0, 0, 1, 0, 0);
    outCtx.drawImage(frame, 0, 0);
    planarToRgba(swapped, mask, size, Math.round(size * 0.06), this.pasted.data);
    cropCtx.setTransform(1, 0, 0, 1, 0, 0);
    cropCtx.putImageData(this.pasted, 0, 0);
    setAffine(outCtx, toFrame);
    outCtx.drawImage(this.crop, 0, 0);
    // Like the mesh engine's option: the person's own mouth interior (teeth,
    // tongue) shows through as they talk.
    if (options.keepMouth) {
      outCtx.setTransform(1, 0, 0, 1, 0, 0);
      outCtx.save();
      outCtx.beginPath();
      for (const [k, i] of this.innerLips.entries()) {
        const x = face.points[i * 3]!, y = face.points[i * 3 + 1]!;
        if (k === 0) outCtx.moveTo(x, y); else outCtx.lineTo(x, y);
      }
      outCtx.closePath();
      outCtx.clip();
      outCtx.drawImage(frame, 0, 0);
      outCtx.restore();
    }
    this.timings.engineMs = t1 - t0;
    this.timings.pasteMs = performance.now() - t1;
    return out;
  }

  packProblem(pack: IdentityPack): string | null {
    return idnPackProblem(pack, this.model);
  }

  forget(pack: IdentityPack): void {
    const baked = this.identities.get(pack)?.baked;
    if (baked) this.sessions.release(baked);
    this.identities.delete(pack);
  }

  dispose(): void {
    this.identities.clear();
    this.sessions.close();
  }

  /** The pack's per-identity state, made once (its guide source checked then). */
  private identity(pack: IdentityPack): Identity {
    let identity = this.identities.get(pack);
    if (!identity) {
      const guide = this.warp ? guideSource(pack) : undefined;
      const feeds: Feeds = {};
      for (const name of IDENTITY_TENSORS) {
        const t = tensor(pack, name);
        const data = t.dtype === 'f16' ? float16BitsToFloat32(t.data as Uint16Array) : (t.data as Float32Array);
        feeds[name] = new ort.Tensor('float32', data, t.shape);
      }
      identity = { feeds, guide };
      this.identities.set(pack, identity);
    }
    return identity;
  }

  /** Starts building the pack's baked generator; the fed one keeps serving frames meanwhile, and the switch is one assignment. */
  private bakeInBackground(pack: IdentityPack, identity: Identity): void {
    if (this.size < BAKE_FROM_CROP || identity.baked !== undefined) return;
    identity.baked = null;
    this.sessions.bake(identity.feeds).then((s) => {
      if (this.identities.get(pack) === identity) identity.baked = s;
      else this.sessions.release(s); // forgotten (or disposed) meanwhile
    }, () => {});
  }
}
