// Face photos from the kit, read at test time (never committed), and frames
// of the fake-camera videos as images.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { cacheDir, sharedKit } from './paths.ts';

export function kitPhoto(relative: string): string {
  const file = path.join(sharedKit, 'data/faces', relative);
  if (!fs.existsSync(file)) throw new Error(`test photo missing: ${file}`);
  return file;
}

/** Frame `index` of a y4m fake camera as a PNG (cached). */
export function y4mFramePng(y4m: string, index: number): string {
  const out = path.join(cacheDir, `${path.basename(y4m, '.y4m')}-frame${index}.png`);
  if (!fs.existsSync(out)) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', y4m, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', out]);
  }
  return out;
}

/** A picture with no face in it: ffmpeg's test pattern. */
export function facelessPng(): string {
  const out = path.join(cacheDir, 'no-face.png');
  if (!fs.existsSync(out)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1', out]);
  }
  return out;
}

/** Puts an image file into the page as <img id=…> (a data URL, so no server route is needed). */
export async function showImage(page: Page, id: string, file: string): Promise<string> {
  const type = file.endsWith('.png') ? 'image/png' : 'image/jpeg';
  const url = `data:${type};base64,${fs.readFileSync(file).toString('base64')}`;
  await page.evaluate(([id, url]) => new Promise<void>((resolve, reject) => {
    document.getElementById(id!)?.remove();
    const img = document.createElement('img');
    img.id = id!;
    img.style.display = 'none';
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('image failed to load'));
    img.src = url!;
    document.body.append(img);
  }), [id, url] as const);
  return `#${id}`;
}
