// Fake-camera input: face videos from the kit, converted to y4m at test time
// (cached outside the repo), and read back as frames for content checks.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stampFrame, STAMP } from './frameStamp.ts';
import { cacheDir, sharedKit } from './paths.ts';
import { lumaThumbnail, type Thumbnail } from './thumbnail.ts';

export interface FakeCamera { name: string; y4m: string }

/** Each source is cropped to 4:3 and scaled to 640×480 at 30 fps, as a webcam would deliver. */
const sources = {
  glasses: { file: 'webcam-glasses-headtilt.mp4', vf: 'crop=720:540:180:0,scale=640:480:flags=lanczos,fps=30,setsar=1' },
  talking: { file: 'webcam-talking-lowres.mp4', vf: 'scale=640:480:flags=lanczos,fps=30,setsar=1' },
  studio: { file: 'studio-talking-grid.mpg', vf: 'crop=360:270:0:9,scale=640:480:flags=lanczos,fps=30,setsar=1' },
} as const;
export type CameraName = keyof typeof sources;

export function fakeCamera(name: CameraName, seconds = 6): FakeCamera {
  const src = path.join(sharedKit, 'data/videos', sources[name].file);
  if (!fs.existsSync(src)) throw new Error(`test video missing: ${src} (the kit is expected at ../shared)`);
  const out = path.join(cacheDir, `${name}-${seconds}s-${fs.statSync(src).mtimeMs | 0}.y4m`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-t', String(seconds), '-an', '-vf', sources[name].vf,
      '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', tmp]);
    fs.renameSync(tmp, out);
  }
  return { name, y4m: out };
}

/**
 * The same camera with each frame's index burned into the bottom-left corner
 * (see frameStamp.ts), so latency can be measured by frame number. The fake
 * camera loops the file, so indices repeat every `seconds`.
 */
export function stampedCamera(name: CameraName, seconds = 6): FakeCamera {
  const plain = fakeCamera(name, seconds);
  const out = plain.y4m.replace(/\.y4m$/, `-stamped${STAMP.bits}.y4m`);
  if (!fs.existsSync(out)) {
    const buf = fs.readFileSync(plain.y4m);
    const { width, height, headerEnd } = y4mHeader(buf, plain.y4m);
    const frameBytes = (width * height * 3) / 2;
    let index = 0;
    for (let off = headerEnd + 1; off < buf.length; index++) {
      const lineEnd = buf.indexOf(0x0a, off);
      if (lineEnd < 0 || lineEnd + 1 + frameBytes > buf.length) break;
      const y = buf.subarray(lineEnd + 1, lineEnd + 1 + width * height);
      const u = buf.subarray(lineEnd + 1 + width * height, lineEnd + 1 + (width * height * 5) / 4);
      const v = buf.subarray(lineEnd + 1 + (width * height * 5) / 4, lineEnd + 1 + frameBytes);
      stampFrame(y, u, v, width, index);
      off = lineEnd + 1 + frameBytes;
    }
    if (index >= 2 ** STAMP.bits) throw new Error(`${index} frames need more than ${STAMP.bits} stamp bits`);
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, buf);
    fs.renameSync(tmp, out);
  }
  return { name: `${name}-stamped`, y4m: out };
}

function y4mHeader(buf: Buffer, file: string) {
  const headerEnd = buf.indexOf(0x0a);
  const header = buf.subarray(0, headerEnd).toString('latin1');
  const width = Number(/ W(\d+)/.exec(header)?.[1]);
  const height = Number(/ H(\d+)/.exec(header)?.[1]);
  if (!width || !height) throw new Error(`not a y4m file: ${file}`);
  return { width, height, headerEnd };
}

/** Thumbnails of every frame's luma plane. */
export function y4mThumbnails(file: string, w = 32, h = 24): Thumbnail[] {
  const buf = fs.readFileSync(file);
  const { width, height, headerEnd } = y4mHeader(buf, file);
  const frameBytes = (width * height * 3) / 2; // 4:2:0
  const thumbs: Thumbnail[] = [];
  for (let off = headerEnd + 1; off < buf.length;) {
    const lineEnd = buf.indexOf(0x0a, off); // "FRAME[ params]\n"
    if (lineEnd < 0 || off + frameBytes > buf.length) break;
    const y = buf.subarray(lineEnd + 1, lineEnd + 1 + width * height);
    thumbs.push(lumaThumbnail(y, width, height, w, h));
    off = lineEnd + 1 + frameBytes;
  }
  return thumbs;
}
