// Page-side helpers of the realism metrics: pixels of an image as luma, the
// face's oval as a mask, and synthetic occluders (glasses frames and a hand)
// composited onto a target, with their exact mask, for the occlusion check.
import * as mesh from '@guise/face/mesh';
import type { FaceGeometry } from '@guise/face/landmarker';
import { lumaOf, polygonMask, type Luma, type Mask } from '../realism.ts';

type Picture = ImageBitmap | OffscreenCanvas;

export function lumaOfPicture(p: Picture): Luma {
  const c = new OffscreenCanvas(p.width, p.height);
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(p, 0, 0);
  return lumaOf(ctx.getImageData(0, 0, p.width, p.height).data, p.width, p.height);
}

const xyOf = (g: FaceGeometry, ids: readonly number[], sx = 1, sy = 1) => ids.flatMap((i) => [g.points[i * 3]! * sx, g.points[i * 3 + 1]! * sy]);

/** The face oval of `g`, in an image of `width` × `height` (the geometry may come from another size). */
export function ovalMask(g: FaceGeometry, width: number, height: number): Mask {
  return polygonMask(xyOf(g, mesh.faceOval(), width / g.width, height / g.height), width, height);
}

/** The oval's width in pixels: the scale of the lighting metric's blur. */
export function ovalWidth(g: FaceGeometry): number {
  const xs = mesh.faceOval().map((i) => g.points[i * 3]!);
  return Math.max(...xs) - Math.min(...xs);
}

function boxOf(g: FaceGeometry, ids: readonly number[]) {
  const xs = ids.map((i) => g.points[i * 3]!), ys = ids.map((i) => g.points[i * 3 + 1]!);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return { x0, x1, y0, y1, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, w: x1 - x0, h: y1 - y0 };
}

/** Draws the occluders' shapes: `paint` sets the style for each (glasses, hand). */
function drawOccluders(ctx: OffscreenCanvasRenderingContext2D, g: FaceGeometry, paint: (part: 'glasses' | 'hand') => void) {
  const face = boxOf(g, mesh.faceOval());
  const eyes = [boxOf(g, mesh.rightEye()), boxOf(g, mesh.leftEye())].sort((a, b) => a.cx - b.cx);
  const iod = eyes[1]!.cx - eyes[0]!.cx;
  // Glasses: a rounded rim around each eye, a bridge and the temples out to the oval.
  paint('glasses');
  ctx.lineWidth = Math.max(2, 0.07 * iod);
  const rims = eyes.map((e) => ({ cx: e.cx, cy: e.cy + 0.03 * iod, rx: 0.36 * iod, ry: 0.24 * iod }));
  ctx.beginPath();
  for (const r of rims) { ctx.moveTo(r.cx + r.rx, r.cy); ctx.ellipse(r.cx, r.cy, r.rx, r.ry, 0, 0, 2 * Math.PI); }
  ctx.moveTo(rims[0]!.cx + rims[0]!.rx, rims[0]!.cy - 0.05 * iod);
  ctx.quadraticCurveTo((rims[0]!.cx + rims[1]!.cx) / 2, rims[0]!.cy - 0.2 * iod, rims[1]!.cx - rims[1]!.rx, rims[1]!.cy - 0.05 * iod);
  ctx.moveTo(rims[0]!.cx - rims[0]!.rx, rims[0]!.cy - 0.05 * iod);
  ctx.lineTo(face.x0, rims[0]!.cy - 0.1 * iod);
  ctx.moveTo(rims[1]!.cx + rims[1]!.rx, rims[1]!.cy - 0.05 * iod);
  ctx.lineTo(face.x1, rims[1]!.cy - 0.1 * iod);
  ctx.stroke();
  // A hand on the lower cheek and jaw of the image-left side: a palm and three fingers.
  paint('hand');
  const palm = { x: face.x0 + 0.12 * face.w, y: face.y0 + 0.86 * face.h, rx: 0.2 * face.w, ry: 0.16 * face.h };
  ctx.beginPath();
  ctx.ellipse(palm.x, palm.y, palm.rx, palm.ry, -0.5, 0, 2 * Math.PI);
  ctx.fill();
  const finger = 0.07 * face.w;
  for (let k = 0; k < 3; k++) {
    ctx.beginPath();
    ctx.roundRect(palm.x - 0.02 * face.w + k * (finger * 1.05), palm.y - 0.38 * face.h + k * 0.03 * face.h, finger, 0.32 * face.h, finger / 2);
    ctx.fill();
  }
}

/** `src` with glasses frames and a hand composited over the face of `g`, and the mask of exactly those pixels. */
export async function occlude(src: ImageBitmap, g: FaceGeometry): Promise<{ image: ImageBitmap; mask: Mask }> {
  const { width, height } = src;
  const c = new OffscreenCanvas(width, height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(src, 0, 0);
  ctx.setTransform(width / g.width, 0, 0, height / g.height, 0, 0);
  drawOccluders(ctx, g, (part) => {
    if (part === 'glasses') { ctx.strokeStyle = '#141414'; return; }
    // A lit palm: a vertical gradient of a tan unlike most faces' skin.
    const grad = ctx.createLinearGradient(0, 0, 0, height);
    grad.addColorStop(0, '#d9a878');
    grad.addColorStop(1, '#a36f45');
    ctx.fillStyle = grad;
  });
  const m = new OffscreenCanvas(width, height);
  const mctx = m.getContext('2d', { willReadFrequently: true })!;
  mctx.setTransform(width / g.width, 0, 0, height / g.height, 0, 0);
  drawOccluders(mctx, g, () => { mctx.strokeStyle = mctx.fillStyle = '#fff'; });
  const a = mctx.getImageData(0, 0, width, height).data;
  // Solid pixels only: the anti-aliased rim is half face, half occluder.
  const mask = { width, height, data: Uint8Array.from({ length: width * height }, (_, i) => (a[i * 4 + 3]! > 250 ? 1 : 0)) };
  return { image: await createImageBitmap(c), mask };
}
