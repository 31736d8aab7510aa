// The classical `mesh` engine: the identity photo's face, cut out once, is
// pasted by the shared compositor (engines/compositor): drawn on MediaPipe's
// face-mesh triangulation at the target's landmarks, with the target's colour
// and shading, through the mesh's feathered oval.
import * as mesh from '@guise/face/mesh';
import { tensor, type IdentityPack, type PackTensor } from '@guise/face/pack';
import { faceBox, type FaceGeometry } from '@guise/face/landmarker';
import { FaceCompositor, type FaceLayer } from '../compositor/FaceCompositor.ts';
import type { Engine, EngineTimings, SwapOptions } from '../types.ts';

const N = mesh.LANDMARK_COUNT;
/** Context around the landmarks' bounding box kept in the identity texture. */
const CROP_MARGIN = 0.15;
/** Longest side of the identity texture; a smaller face keeps its own resolution. */
const MAX_TEXTURE = 512;

export class MeshEngine implements Engine {
  readonly kind = 'mesh' as const;
  readonly timings: EngineTimings = { engineMs: 0, pasteMs: 0 };
  private readonly compositor = new FaceCompositor();
  private readonly layers = new Map<IdentityPack, FaceLayer>();

  private constructor() {
    this.compositor.onRestored = () => this.layers.clear();
  }

  /** The GL context and programs are made on the first identity or frame. */
  static async create(): Promise<MeshEngine> {
    return new MeshEngine();
  }

  async prepareIdentity(photo: ImageBitmap, face: FaceGeometry, label: string): Promise<IdentityPack> {
    // Landmarks → photo pixels (the geometry may come from a resized copy).
    const [sx, sy] = [photo.width / face.width, photo.height / face.height];
    const box = faceBox(face);
    const [bx0, by0, bx1, by1] = [box.x, box.y, box.x + box.width, box.y + box.height];
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
    this.layer(pack); // checks the pack now, not on the first frame
    return pack;
  }

  private layer(pack: IdentityPack): FaceLayer {
    let layer = this.layers.get(pack);
    if (!layer) {
      const texture = need(pack, 'texture', 'u8', [null, null, 4]);
      const uv = need(pack, 'uv', 'f32', [N, 2]);
      const [th, tw] = texture.shape as [number, number];
      const landmarks = Float32Array.from(uv.data as Float32Array, (c, i) => c * (i % 2 ? th : tw));
      layer = this.compositor.createLayer(texture.data as Uint8Array, tw, th, landmarks);
      this.layers.set(pack, layer);
    }
    return layer;
  }

  swap(frame: VideoFrame | ImageBitmap, face: FaceGeometry, pack: IdentityPack, options: SwapOptions): OffscreenCanvas {
    const out = this.compositor.composite(frame, face, this.layer(pack), options);
    this.timings.engineMs = this.compositor.timings.drawMs;
    this.timings.pasteMs = this.compositor.timings.pasteMs;
    return out;
  }

  forget(pack: IdentityPack): void {
    const layer = this.layers.get(pack);
    if (!layer) return;
    this.compositor.deleteLayer(layer);
    this.layers.delete(pack);
  }

  dispose(): void {
    this.layers.clear();
    this.compositor.dispose();
  }
}

function need(pack: IdentityPack, name: string, dtype: PackTensor['dtype'], shape: (number | null)[]): PackTensor {
  const t = tensor(pack, name);
  const ok = t.dtype === dtype && t.shape.length === shape.length && shape.every((s, i) => s === null || s === t.shape[i]);
  if (!ok) throw new Error(`mesh pack "${pack.label}": tensor ${name} must be ${dtype} [${shape.map((s) => s ?? '?')}]`);
  return t;
}
