// Probes that run inside the bench's pages (as init scripts), recording what
// a person in the call gets: the sender's raw camera frames by frame number,
// and every frame the receiver's video element presents, with its frame
// number and a thumbnail. They need stampReaderScript (frameStamp.ts) first.

/**
 * One frame the sender's camera delivered: its number (-1: unreadable), the
 * wall time the probe read it (ms), its capture timestamp (µs, the camera's
 * clock) and which clone of which camera track it came through.
 */
export type CameraFrame = [stamp: number, readAt: number, timestampUs: number, clone: number];
/** One frame the receiver presented: wall time (ms), frame number (-1: unreadable), 32×24 luma. */
export interface PresentedFrame { t: number; stamp: number; thumb: number[] }
/** A pipeline stats report, with the wall time it reached the main thread. */
export interface StatsSample { t: number; fpsIn: number; fpsOut: number; landmarksMs: number; engineMs: number; pasteMs: number; dropped: number; faceFound: boolean; facesPerSecond: number }

export const THUMB = { w: 32, h: 24 } as const;

/**
 * Sender: a clone of every camera track the app opens is read frame by frame
 * (a second MediaStreamTrackProcessor), and each frame's number is recorded
 * with the time it was read and its capture timestamp: the bench puts the
 * capture timestamps on the wall clock by the smallest read delay seen, so a
 * busy page reading late does not shorten the measured latency. The clone
 * stops with the original.
 */
export const senderProbe = () => {
  type Processor = new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> };
  type CameraFrame = [stamp: number, readAt: number, timestampUs: number, clone: number];
  let clones = 0;
  const g = window as unknown as {
    __tx: { stamps: CameraFrame[]; stats: unknown[] };
    __readStamp(source: CanvasImageSource, w: number, h: number): number;
    MediaStreamTrackProcessor: Processor;
  };
  g.__tx = { stamps: [], stats: [] };
  const md = navigator.mediaDevices;
  const getUserMedia = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    const track = stream.getVideoTracks()[0];
    if (!track) return stream;
    const clone = track.clone();
    const id = ++clones;
    const stop = track.stop.bind(track);
    track.stop = () => { clone.stop(); stop(); };
    const reader = new g.MediaStreamTrackProcessor({ track: clone }).readable.getReader();
    void (async () => {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) return;
        const t = performance.timeOrigin + performance.now();
        try {
          g.__tx.stamps.push([g.__readStamp(frame, frame.displayWidth, frame.displayHeight), t, frame.timestamp, id]);
        } finally {
          frame.close();
        }
      }
    })().catch(() => {});
    return stream;
  };
};

/**
 * Receiver: every frame a remote tile's video presents (requestVideoFrameCallback),
 * with its number and thumbnail; `selector` picks other videos (the output page's).
 */
export const receiverProbe = ([w, h, selector]: readonly [number, number, string?]) => {
  const g = window as unknown as {
    __rx: { frames: { t: number; stamp: number; thumb: number[] }[] };
    __readStamp(source: CanvasImageSource, w: number, h: number): number;
  };
  g.__rx = { frames: [] };
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  const seen = new WeakSet<HTMLVideoElement>();
  const watch = (video: HTMLVideoElement) => {
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
      if (!video.isConnected) return;
      video.requestVideoFrameCallback(onFrame);
      const vw = video.videoWidth, vh = video.videoHeight;
      if (!vw || !vh) return;
      ctx.drawImage(video, 0, 0, w, h);
      const data = ctx.getImageData(0, 0, w, h).data;
      const thumb = new Array<number>(w * h);
      for (let i = 0; i < w * h; i++) thumb[i] = Math.round(0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!);
      g.__rx.frames.push({ t: performance.timeOrigin + (meta.presentationTime ?? now), stamp: g.__readStamp(video, vw, vh), thumb });
    };
    video.requestVideoFrameCallback(onFrame);
  };
  new MutationObserver(() => {
    for (const v of document.querySelectorAll<HTMLVideoElement>(selector ?? '[data-local="false"] video[data-testid="tile-video"]')) {
      if (seen.has(v)) continue;
      seen.add(v);
      watch(v);
    }
  }).observe(document, { childList: true, subtree: true });
};

/** Every RTCPeerConnection the page makes, kept for getStats (the app's transports are mediasoup-client's). */
export const peerConnectionProbe = () => {
  const Original = window.RTCPeerConnection;
  const made: RTCPeerConnection[] = [];
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = made;
  window.RTCPeerConnection = new Proxy(Original, {
    construct(target, args) {
      const pc = Reflect.construct(target, args) as RTCPeerConnection;
      made.push(pc);
      return pc;
    },
  });
};

