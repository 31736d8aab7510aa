// Chromium's insertable streams for raw video (not yet in TypeScript's DOM lib).
interface MediaStreamTrackProcessorInit { track: MediaStreamTrack; maxBufferSize?: number }
declare class MediaStreamTrackProcessor {
  constructor(init: MediaStreamTrackProcessorInit);
  readonly readable: ReadableStream<VideoFrame>;
}
declare class MediaStreamTrackGenerator extends MediaStreamTrack {
  constructor(init: { kind: 'video' | 'audio' });
  readonly writable: WritableStream<VideoFrame>;
}
