// WHIP and WHEP clients written with the browser's own RTCPeerConnection, run
// in a page of the server's origin, and a reader of a video element's pixels
// for the disclosure mark. The page-side functions are self-contained: they
// are sent to the page as source.
import type { Page } from 'playwright-core';

export interface HttpAnswer { status: number; location: string | null; contentType: string | null; allow: string | null; text: string }

/** tsx names compiled functions with a helper that pages don't have. */
export const definePageHelpers = (page: Page) => page.evaluate('globalThis.__name ??= (f) => f');

/**
 * POSTs a real offer (a canvas pattern and a tone, sendonly) to `endpoint`,
 * with the given headers; on 201 the answer is applied and the connection kept
 * as window.__whip. `contentType` overrides application/sdp (to test 415).
 */
export async function whipPublish(page: Page, endpoint: string, opts: { token?: string; contentType?: string } = {}): Promise<HttpAnswer> {
  await definePageHelpers(page);
  return page.evaluate(async ({ endpoint, token, contentType }) => {
    const canvas = document.createElement('canvas');
    canvas.width = 640; canvas.height = 480;
    const ctx = canvas.getContext('2d')!;
    let n = 0;
    setInterval(() => { ctx.fillStyle = `hsl(${(n += 7) % 360} 80% 50%)`; ctx.fillRect(0, 0, 640, 480); }, 33);
    const video = canvas.captureStream(30).getVideoTracks()[0]!;
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const out = audio.createMediaStreamDestination();
    tone.connect(out);
    tone.start();
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver(video, { direction: 'sendonly' });
    pc.addTransceiver(out.stream.getAudioTracks()[0]!, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': contentType ?? 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: pc.localDescription!.sdp,
    });
    const text = await res.text();
    if (res.status === 201) {
      await pc.setRemoteDescription({ type: 'answer', sdp: text });
      (window as unknown as { __whip: RTCPeerConnection }).__whip = pc;
    } else {
      pc.close();
    }
    return { status: res.status, location: res.headers.get('Location'), contentType: res.headers.get('Content-Type'), allow: res.headers.get('Allow'), text };
  }, { endpoint, token: opts.token, contentType: opts.contentType });
}

/** Any other request the protocol names (DELETE, GET, PATCH), from the page. */
export async function request(page: Page, url: string, method: string, init: { token?: string; contentType?: string; body?: string } = {}): Promise<HttpAnswer> {
  return page.evaluate(async ({ url, method, token, contentType, body }) => {
    const res = await fetch(url, {
      method,
      headers: { ...(contentType ? { 'Content-Type': contentType } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body }),
    });
    return { status: res.status, location: res.headers.get('Location'), contentType: res.headers.get('Content-Type'), allow: res.headers.get('Allow'), text: await res.text() };
  }, { url, method, ...init });
}

/** Waits until window.__whip (from whipPublish) has connected. */
export const whipConnected = (page: Page) => page.waitForFunction(() => (window as unknown as { __whip?: RTCPeerConnection }).__whip?.connectionState === 'connected');

/**
 * A WHEP player: POSTs a recvonly offer (video, and audio) to `endpoint`; on
 * 201 plays what arrives in a <video data-testid="whep-video"> it adds to the page.
 */
export async function whepPlay(page: Page, endpoint: string, opts: { token?: string } = {}): Promise<HttpAnswer> {
  await definePageHelpers(page);
  return page.evaluate(async ({ endpoint, token }) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => stream.addTrack(e.track));
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: pc.localDescription!.sdp,
    });
    const text = await res.text();
    if (res.status === 201) {
      await pc.setRemoteDescription({ type: 'answer', sdp: text });
      const video = Object.assign(document.createElement('video'), { autoplay: true, muted: true, playsInline: true, srcObject: stream });
      video.dataset.testid = 'whep-video';
      document.body.append(video);
      (window as unknown as { __whep: RTCPeerConnection }).__whep = pc;
    } else {
      pc.close();
    }
    return { status: res.status, location: res.headers.get('Location'), contentType: res.headers.get('Content-Type'), allow: res.headers.get('Allow'), text };
  }, { endpoint, token: opts.token });
}

/** The luma (BT.601) of the frame a video element shows now, at its own size. */
export async function videoLuma(page: Page, selector: string): Promise<{ width: number; height: number; luma: Uint8Array }> {
  const { width, height, b64 } = await page.$eval(selector, (el) => {
    const v = el as HTMLVideoElement;
    const c = new OffscreenCanvas(v.videoWidth, v.videoHeight);
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(v, 0, 0);
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const luma = new Uint8Array(c.width * c.height);
    for (let i = 0; i < luma.length; i++) luma[i] = 0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!;
    let s = '';
    for (let i = 0; i < luma.length; i += 0x8000) s += String.fromCharCode(...luma.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, b64: btoa(s) };
  });
  return { width, height, luma: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** Waits until a video element has decoded `more` frames beyond what it had. */
export async function waitForFrames(page: Page, selector: string, more: number): Promise<void> {
  const before = await page.$eval(selector, (v) => (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
  await page.waitForFunction(([s, n]) => {
    const v = document.querySelector<HTMLVideoElement>(s as string);
    return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > (n as number);
  }, [selector, before + more] as const, { timeout: 60_000 });
}
