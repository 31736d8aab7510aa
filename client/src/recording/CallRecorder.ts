// Records what the others see of you: the published (swapped, marked) video
// track and the microphone, as WebM through MediaRecorder, in the browser.
// MediaRecorder writes no duration into a WebM, so players could not seek it;
// fix-webm-duration adds it once recording stops.
import fixWebmDuration from 'fix-webm-duration';

/** VP8 + opus where the browser has it (what the call itself sends), else its own WebM choice. */
function mimeType(): string {
  const preferred = 'video/webm;codecs=vp8,opus';
  return typeof MediaRecorder !== 'undefined' && MediaRecorder.isTypeSupported(preferred) ? preferred : 'video/webm';
}

export class CallRecorder {
  private readonly recorder: MediaRecorder;
  private readonly chunks: Blob[] = [];
  private readonly stopped: Promise<void>;
  readonly startedAt = performance.now();

  /** Starts recording `tracks` at once; the tracks stay the caller's (stopping the recorder does not stop them). */
  constructor(tracks: MediaStreamTrack[]) {
    this.recorder = new MediaRecorder(new MediaStream(tracks), { mimeType: mimeType() });
    this.recorder.addEventListener('dataavailable', (e) => { if (e.data.size > 0) this.chunks.push(e.data); });
    this.stopped = new Promise((resolve) => this.recorder.addEventListener('stop', () => resolve(), { once: true }));
    // A chunk a second: a long recording is not one huge buffer at the end.
    this.recorder.start(1000);
  }

  /** Stops and returns the file, with its duration written in. */
  async stop(): Promise<Blob> {
    const duration = performance.now() - this.startedAt;
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    await this.stopped;
    const raw = new Blob(this.chunks, { type: 'video/webm' });
    return fixWebmDuration(raw, duration, { logger: false });
  }
}

/** Hands `blob` to the browser as a download called `name`. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference by now; the URL can go.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
