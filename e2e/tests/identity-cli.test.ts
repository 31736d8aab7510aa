// `pnpm identity pack`: an identity pack made offline on onnxruntime-node,
// with the app's own face tracker, that the generator accepts; for the
// warp-guided model, with the guide's source, as the app's worker makes it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GUIDE_FACE, GUIDE_LANDMARKS, guideSource } from '@guise/face/idn/guide';
import { parseIdnManifest } from '@guise/face/idn/manifest';
import { idnPackProblem } from '@guise/face/idn/packFit';
import { IDENTITY_TENSORS } from '@guise/face/idn/tensors';
import { arcfaceTemplate, invertAffine, type Affine } from '@guise/face/align';
import { fivePoints } from '@guise/face/keypoints';
import { decodePack, float16BitsToFloat32, type IdentityPack } from '@guise/face/pack';
import { alignedFace, findModel, packPhoto, PackProblem } from '@guise/scripts/identity/pack';
import { cacheDir } from '../lib/paths.ts';
import { randomIdnModel } from '../lib/models.ts';
import { facelessPng, kitPhoto } from '../lib/photos.ts';

const modelOf = (dir: string) => parseIdnManifest(fs.readFileSync(path.join(dir, 'manifest.json')));

/** The generator's outputs for a grey target (and, guided, a grey warp with a full mask). */
async function runGenerator(dir: string, pack: IdentityPack, channels: number) {
  const generator = await ort.InferenceSession.create(path.join(dir, 'generator.onnx'));
  const target = new Float32Array(channels * 128 * 128).fill(0.5);
  target.fill(1, 6 * 128 * 128); // the mask channel, where there is one
  const feeds: Record<string, ort.Tensor> = { target: new ort.Tensor('float32', target, [1, channels, 128, 128]) };
  for (const name of IDENTITY_TENSORS) {
    const t = pack.tensors.find((x) => x.name === name)!;
    feeds[name] = new ort.Tensor('float32', float16BitsToFloat32(t.data as Uint16Array), t.shape);
  }
  return (await generator.run(feeds)).swapped!.data as Float32Array;
}

/** A PNG's RGB pixels as ffmpeg decodes them (PNG: the browser's decode is the same). */
function decodeRgb(file: string): { data: Uint8Array; width: number; height: number } {
  const [width, height] = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split(',').map(Number);
  const data = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 << 20 });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: width!, height: height! };
}

/**
 * Mean absolute difference between `rgba` (a crop the canvas drew) and the
 * bilinear crop through `toCrop` in OpenCV's convention (cv2.warpAffine: pixel
 * i's centre at i), or with `canvasCentres` in the canvas's own (centre at
 * i + 0.5), which is what drawing through toCrop unshifted gives. Over the
 * crop's pixels whose source is well inside the photo.
 */
function cropDifference(rgba: Uint8ClampedArray, size: number, photo: ReturnType<typeof decodeRgb>, toCrop: Affine, canvasCentres: boolean): number {
  const [a, b, tx, c, d, ty] = invertAffine(toCrop);
  const o = canvasCentres ? 0.5 : 0;
  let sum = 0, n = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = a * (x + o) + b * (y + o) + tx - o, sy = c * (x + o) + d * (y + o) + ty - o;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < 1 || y0 < 1 || x0 + 2 >= photo.width || y0 + 2 >= photo.height) continue;
      const fx = sx - x0, fy = sy - y0;
      for (let ch = 0; ch < 3; ch++) {
        const p = (xx: number, yy: number) => photo.data[(yy * photo.width + xx) * 3 + ch]!;
        const v = (1 - fy) * ((1 - fx) * p(x0, y0) + fx * p(x0 + 1, y0)) + fy * ((1 - fx) * p(x0, y0 + 1) + fx * p(x0 + 1, y0 + 1));
        sum += Math.abs(v - rgba[(y * size + x) * 4 + ch]!);
        n++;
      }
    }
  }
  return sum / n;
}

describe('identity pack CLI', () => {
  const model = randomIdnModel();
  const guided = randomIdnModel(128, 4);

  it('packs a one-face photo into 18 fp16 tensors the generator runs with', async () => {
    const pack = decodePack(await packPhoto(kitPhoto('deepface-pairs/img5.jpg'), { model, label: 'X' }));
    expect(pack.engine).toBe('idn');
    expect(pack.label).toBe('X');
    expect(pack.tensors.map((t) => t.name)).toEqual(IDENTITY_TENSORS);
    expect(pack.tensors.every((t) => t.dtype === 'f16')).toBe(true);
    // It names its model, as the app's packs do: the worker takes it for this model only.
    const idn = await modelOf(model);
    expect(pack.meta).toMatchObject({ crop: 128, guide_channels: 0, model: idn.id, source: 'cli' });
    expect(idnPackProblem(pack, idn)).toBeNull();
    expect(idnPackProblem(pack, await modelOf(guided))).toMatch(/another neural model/);

    const swapped = await runGenerator(model, pack, 3);
    expect(swapped.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
  });

  it('packs for the warp-guided model: the guide source too, its landmarks on the face in its crop', async () => {
    const pack = decodePack(await packPhoto(kitPhoto('deepface-pairs/img5.jpg'), { model: guided, label: 'X' }));
    expect(pack.tensors.map((t) => t.name)).toEqual([...IDENTITY_TENSORS, GUIDE_FACE, GUIDE_LANDMARKS]);
    const idn = await modelOf(guided);
    expect(pack.meta).toMatchObject({ crop: 128, guide_channels: 4, model: idn.id });
    expect(idnPackProblem(pack, idn)).toBeNull();
    expect(idnPackProblem(pack, await modelOf(model))).toMatch(/another neural model/);

    const guide = guideSource(pack);
    // The landmarks are in the crop: its five alignment keypoints sit near the
    // ArcFace template (a similarity fit to five points leaves a residual of
    // a few pixels on a face that isn't frontal).
    const template = arcfaceTemplate(224);
    const landmarks = Array.from({ length: 478 }, (_, i) => ({ x: guide.landmarks[i * 2]! / 224, y: guide.landmarks[i * 2 + 1]! / 224 }));
    const errors = fivePoints(landmarks, 224, 224).map(([x, y], i) => Math.hypot(x - template[i]![0], y - template[i]![1]));
    console.log('guide keypoints off the template (px):', errors.map((e) => e.toFixed(1)).join(' '));
    expect(errors.reduce((a, e) => a + e) / 5).toBeLessThan(10);
    expect(Math.max(...errors)).toBeLessThan(20);
    // And the crop is the photo's face: not blank, not cut off.
    const mean = guide.image.data.reduce((a, v) => a + v, 0) / guide.image.data.length;
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(220);

    const swapped = await runGenerator(guided, pack, 7);
    expect(swapped.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
  });

  it('crops in OpenCV\'s pixel convention, as the training crops and the app (the half-pixel shift)', async () => {
    // Enlarged 3×, as a PNG, so the shift is large in the crop (a third of a
    // pixel) and both sides decode the same pixels.
    const big = path.join(cacheDir, 'identity-cli-img5-x3.png');
    if (!fs.existsSync(big)) execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', kitPhoto('deepface-pairs/img5.jpg'), '-vf', 'scale=iw*3:ih*3:flags=lanczos', big]);
    const { rgba, toCrop } = await alignedFace(big);
    const photo = decodeRgb(big);
    const opencv = cropDifference(rgba, 224, photo, toCrop, false);
    const unshifted = cropDifference(rgba, 224, photo, toCrop, true);
    console.log(`mean |crop - reference|: OpenCV convention ${opencv.toFixed(2)}, unshifted ${unshifted.toFixed(2)} (of 255)`);
    expect(opencv).toBeLessThan(1.5);
    expect(opencv).toBeLessThan(unshifted / 2);
  });

  it('refuses photos without exactly one face, with the app\'s messages', async () => {
    await expect(packPhoto(facelessPng(), { model })).rejects.toMatchObject({ problem: { code: 'no_face' } });
    await expect(packPhoto(kitPhoto('deepface-pairs/couple.jpg'), { model })).rejects.toThrow(PackProblem);
    await expect(packPhoto(kitPhoto('deepface-pairs/couple.jpg'), { model })).rejects.toThrow(/2 faces/);
  });

  it('says what to do when there is no model', () => {
    expect(() => findModel('/nonexistent')).toThrow(/no identity.onnx/);
  });
});
