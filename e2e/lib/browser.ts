// Debian's Chromium, driven by playwright-core, with a fake camera fed from a
// real face video and the fake microphone's beeps.
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FakeCamera } from './y4m.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Participant {
  browser: Browser;
  page: Page;
  errors: string[];
  warnings: string[];
  /** Every request the page made outside its own origin: the app must serve everything itself. */
  offOrigin: string[];
  close(): Promise<void>;
}

/** The fake capture file is per browser process, so each participant gets its own browser. */
export async function launchParticipant(camera: FakeCamera, opts: { denyMedia?: boolean; extraArgs?: string[] } = {}): Promise<Participant> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', // playwright gives each launch a fresh profile
      '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera.y4m}`,
      // The fake UI accepts every permission prompt; without it headless Chromium refuses them.
      ...(opts.denyMedia ? [] : ['--use-fake-ui-for-media-stream']),
      '--autoplay-policy=no-user-gesture-required',
      // Headless tabs are "hidden"; don't let Chromium throttle their timers and video.
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
      ...(opts.extraArgs ?? []),
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  await context.addInitScript(countPageVideoFrames);
  const page = await context.newPage();
  const errors: string[] = [];
  const warnings: string[] = [];
  const offOrigin: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    const { url } = m.location();
    // The app probes for an optional neural model; a build without one answers 404.
    if (m.type() === 'error' && url.endsWith('/models/idn/manifest.json')) return;
    // "Failed to load resource" names no URL in its text: the location has it.
    const text = url && !m.text().includes(url) ? `${m.text()} (${url})` : m.text();
    if (m.type() === 'error') errors.push(text);
    if (m.type() === 'warning') warnings.push(text);
  });
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!/^https?:$/.test(url.protocol)) return; // data:, blob:
    const app = new URL(page.url());
    // Before the first navigation the page is about:blank; the app's own origin is whatever it navigated to.
    if (app.protocol.startsWith('http') && url.origin !== app.origin) offOrigin.push(r.url());
  });
  return {
    browser, page, errors, warnings, offOrigin,
    close: () => browser.close().catch(() => {}),
  };
}

/**
 * Counts the VideoFrames the page's own scripts construct, and how many of
 * those they close (window.__pageVideoFrames). Chromium's "A VideoFrame was
 * garbage collected without being closed" is logged for the page's realm
 * only, and also for frames Chromium itself keeps there: it appeared in
 * pages whose scripts construct none (a 40-line probe with a file-fed camera,
 * a MediaStreamTrackProcessor and a transferred stream: 3 of 6 runs). The
 * app's frames are in its camera worker, which counts them in its stats.
 */
function countPageVideoFrames() {
  const Native = globalThis.VideoFrame;
  if (!Native) return;
  const counts = { made: 0, closed: 0 };
  const mine = new WeakSet<VideoFrame>();
  (window as unknown as { __pageVideoFrames: typeof counts }).__pageVideoFrames = counts;
  globalThis.VideoFrame = new Proxy(Native, {
    construct(target, args, newTarget) {
      const frame = Reflect.construct(target, args, newTarget) as VideoFrame;
      counts.made++;
      mine.add(frame);
      return frame;
    },
  });
  const close = Native.prototype.close;
  Native.prototype.close = function (this: VideoFrame) {
    if (mine.delete(this)) counts.closed++;
    return close.call(this);
  };
}

/** The VideoFrames the page's own scripts constructed and have not closed. */
export const openPageVideoFrames = (page: Page) => page.evaluate(() => {
  const c = (window as unknown as { __pageVideoFrames?: { made: number; closed: number } }).__pageVideoFrames;
  return c ? c.made - c.closed : 0;
});

/** Chromium's own warning (see countPageVideoFrames); tests check the frames the app holds instead. */
const CHROMIUM_FRAME_GC = /^A VideoFrame was garbage collected without being closed/;

/**
 * Errors the app itself caused. tasks-vision logs its TFLite set-up to stderr,
 * which Chromium reports as console errors; those are not the app's.
 */
export function appErrors(p: Participant): string[] {
  return [
    ...p.errors.filter((e) => !/^INFO: Created TensorFlow Lite/.test(e) && !CHROMIUM_FRAME_GC.test(e)),
    ...p.offOrigin.map((url) => `requested outside the app's origin: ${url}`),
  ];
}

/** Waits, however long it takes, until the remote tile has decoded `more` frames beyond `before`: frames flow. */
export async function waitForDecodedFrames(page: Page, peerName: string, before: number, more: number): Promise<void> {
  await page.waitForFunction(([sel, n]) =>
    (document.querySelector(sel as string) as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames! > (n as number),
  [`${remoteTile(peerName)} video[data-testid="tile-video"]`, before + more] as const);
}

/** Opens the app at `url` and waits until it has started (not for 'load': see joinCall). */
export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => !!(window as { __guise?: unknown }).__guise, undefined, { timeout: 60_000 });
}

export async function joinCall(page: Page, baseUrl: string, room: string, name: string): Promise<void> {
  // Wait for the call view, not the load event: leaving a page with a running
  // swap worker and camera can hold 'load' of the next one on a busy machine.
  await page.goto(`${baseUrl}/?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}&autojoin=1`, { waitUntil: 'commit' });
  await page.waitForSelector('[data-testid="call"]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected');
}

export const remoteTile = (peerName: string) => `[data-testid="tile"][data-local="false"][data-display-name="${peerName}"]`;

/** Waits until the remote tile's video is decoding frames, and returns its size. */
export async function waitForRemoteVideo(page: Page, peerName: string): Promise<{ width: number; height: number }> {
  const sel = `${remoteTile(peerName)} video[data-testid="tile-video"]`;
  await page.waitForFunction((s) => {
    const v = document.querySelector<HTMLVideoElement>(s);
    return !!v && v.readyState >= 2 && v.videoWidth > 0 && (v.getVideoPlaybackQuality?.().totalVideoFrames ?? 1) > 0;
  }, sel, { timeout: 60_000 });
  return page.$eval(sel, (v) => ({ width: (v as HTMLVideoElement).videoWidth, height: (v as HTMLVideoElement).videoHeight }));
}

export function decodedFrames(page: Page, peerName: string): Promise<number> {
  return page.$eval(`${remoteTile(peerName)} video[data-testid="tile-video"]`,
    (v) => (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
}

/** A 32×24 luma thumbnail of what the remote tile is showing right now. */
export async function remoteThumbnail(page: Page, peerName: string, w = 32, h = 24): Promise<Float32Array> {
  const sel = `${remoteTile(peerName)} video[data-testid="tile-video"]`;
  const values = await page.$eval(sel, (el, [w, h]) => {
    const v = el as HTMLVideoElement;
    // Draw at full size, then box-filter like the y4m side does.
    const c = new OffscreenCanvas(v.videoWidth, v.videoHeight);
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(v, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, v.videoWidth, v.videoHeight);
    const out: number[] = [];
    for (let ty = 0; ty < h!; ty++) {
      const y0 = Math.floor((ty * height) / h!), y1 = Math.floor(((ty + 1) * height) / h!);
      for (let tx = 0; tx < w!; tx++) {
        const x0 = Math.floor((tx * width) / w!), x1 = Math.floor(((tx + 1) * width) / w!);
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * 4;
          s += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!; // BT.601 luma, as in the y4m
        }
        out.push(s / ((y1 - y0) * (x1 - x0)));
      }
    }
    return out;
  }, [w, h]);
  return Float32Array.from(values);
}

/** Loudest RMS heard on the remote tile's audio track over a window, via WebAudio. */
export async function remoteAudioLevel(page: Page, peerName: string, ms = 2500): Promise<{ readyState: string; rms: number }> {
  return page.$eval(`${remoteTile(peerName)} audio[data-testid="tile-audio"]`, async (el, ms) => {
    const stream = (el as HTMLAudioElement).srcObject as MediaStream | null;
    const track = stream?.getAudioTracks()[0];
    if (!track) return { readyState: 'none', rms: 0 };
    const ctx = new AudioContext();
    await ctx.resume();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let max = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      analyser.getFloatTimeDomainData(buf);
      let s = 0;
      for (const x of buf) s += x * x;
      max = Math.max(max, Math.sqrt(s / buf.length));
      await new Promise((r) => setTimeout(r, 50));
    }
    await ctx.close();
    return { readyState: track.readyState, rms: max };
  }, ms);
}
