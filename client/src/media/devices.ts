// Camera and microphone: capture, device lists, and errors a person can act on.

export interface LocalTracks {
  video: MediaStreamTrack | null;
  audio: MediaStreamTrack | null;
}

export interface DeviceChoice {
  cameraId?: string | undefined;
  micId?: string | undefined;
}

export interface DeviceLists {
  cameras: MediaDeviceInfo[];
  mics: MediaDeviceInfo[];
}

/** navigator.mediaDevices only exists in a secure context (https or localhost). */
export class InsecureContextError extends Error {
  override readonly name = 'InsecureContextError';
  constructor() { super('navigator.mediaDevices is unavailable'); }
}

export function videoConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    width: { ideal: 640 },
    height: { ideal: 480 },
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  };
}

export function audioConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  };
}

function mediaDevices(): MediaDevices {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia) throw new InsecureContextError();
  return navigator.mediaDevices;
}

/**
 * Camera and microphone in one prompt. If one of them is missing or broken,
 * settles for the other: a call with only a mic (or only a camera) beats none.
 * Throws only when neither can be had.
 */
export async function getLocalTracks(choice: DeviceChoice = {}): Promise<{ tracks: LocalTracks; error: unknown }> {
  const md = mediaDevices();
  try {
    const stream = await md.getUserMedia({ video: videoConstraints(choice.cameraId), audio: audioConstraints(choice.micId) });
    return { tracks: { video: stream.getVideoTracks()[0] ?? null, audio: stream.getAudioTracks()[0] ?? null }, error: null };
  } catch (err) {
    // Denied is denied for both; asking again one by one would prompt twice.
    if (errorName(err) === 'NotAllowedError' || errorName(err) === 'SecurityError') throw err;
    const [video, audio] = await Promise.allSettled([getCameraTrack(choice.cameraId), getMicTrack(choice.micId)]);
    const tracks = {
      video: video.status === 'fulfilled' ? video.value : null,
      audio: audio.status === 'fulfilled' ? audio.value : null,
    };
    if (!tracks.video && !tracks.audio) throw err;
    return { tracks, error: video.status === 'rejected' ? video.reason : audio.status === 'rejected' ? audio.reason : null };
  }
}

export async function getCameraTrack(deviceId?: string): Promise<MediaStreamTrack> {
  const stream = await mediaDevices().getUserMedia({ video: videoConstraints(deviceId) });
  return stream.getVideoTracks()[0]!;
}

export async function getMicTrack(deviceId?: string): Promise<MediaStreamTrack> {
  const stream = await mediaDevices().getUserMedia({ audio: audioConstraints(deviceId) });
  return stream.getAudioTracks()[0]!;
}

/** Labels are empty until the page has been granted a capture permission. */
export async function listDevices(): Promise<DeviceLists> {
  const all = await mediaDevices().enumerateDevices();
  return {
    cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
    mics: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
  };
}

export function onDeviceChange(cb: () => void): () => void {
  const md = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  md?.addEventListener('devicechange', cb);
  return () => md?.removeEventListener('devicechange', cb);
}

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : '';
}

/** What to tell a person whose camera or microphone could not be opened. */
export function describeMediaError(err: unknown): string {
  switch (errorName(err)) {
    case 'InsecureContextError':
      return 'The camera and microphone are blocked on this page: Guise needs https or localhost. Open it over https.';
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return "Camera or microphone access was denied. Allow it in the browser's site settings and try again.";
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return 'No camera or microphone was found. Plug one in and try again.';
    case 'NotReadableError':
    case 'TrackStartError':
      return 'The camera or microphone is in use by another app (or failed to start). Close that app and try again.';
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return 'The selected camera or microphone is no longer available. Pick another one.';
    case 'AbortError':
      return 'The camera or microphone stopped while starting. Try again.';
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return `Couldn't open the camera or microphone${message ? `: ${message}` : ''}.`;
    }
  }
}
