import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeMediaError, getLocalTracks, InsecureContextError, videoConstraints } from '../src/media/devices.ts';

const domError = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('describeMediaError', () => {
  it('says what to do about each getUserMedia failure', () => {
    expect(describeMediaError(domError('NotAllowedError')))
      .toBe("Camera or microphone access was denied. Allow it in the browser's site settings and try again.");
    expect(describeMediaError(domError('NotFoundError'))).toMatch(/No camera or microphone was found/);
    expect(describeMediaError(domError('NotReadableError'))).toMatch(/in use by another app/);
    expect(describeMediaError(domError('OverconstrainedError'))).toMatch(/no longer available/);
    expect(describeMediaError(new InsecureContextError())).toMatch(/needs https or localhost/);
  });

  it('falls back to the error text', () => {
    expect(describeMediaError(domError('WeirdError', 'boom'))).toBe("Couldn't open the camera or microphone: boom.");
    expect(describeMediaError('nope')).toBe("Couldn't open the camera or microphone: nope.");
  });
});

describe('videoConstraints', () => {
  it('asks for 640x480 and pins a chosen device', () => {
    expect(videoConstraints()).toEqual({ width: { ideal: 640 }, height: { ideal: 480 } });
    expect(videoConstraints('cam-2').deviceId).toEqual({ exact: 'cam-2' });
  });
});

describe('getLocalTracks', () => {
  afterEach(() => { vi.unstubAllGlobals(); });

  const track = (kind: string) => ({ kind });
  const stream = (...tracks: { kind: string }[]) => ({
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
  });

  it('throws InsecureContextError without navigator.mediaDevices', async () => {
    vi.stubGlobal('navigator', {});
    await expect(getLocalTracks()).rejects.toBeInstanceOf(InsecureContextError);
  });

  it('settles for the microphone when there is no camera', async () => {
    const getUserMedia = vi.fn(async (c: MediaStreamConstraints) => {
      if (c.video) throw domError('NotFoundError');
      return stream(track('audio'));
    });
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia } });
    const { tracks, error } = await getLocalTracks();
    expect(tracks.video).toBeNull();
    expect(tracks.audio).toEqual({ kind: 'audio' });
    expect((error as Error).name).toBe('NotFoundError');
  });

  it('does not ask twice after a denial', async () => {
    const getUserMedia = vi.fn(async () => { throw domError('NotAllowedError'); });
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia } });
    await expect(getLocalTracks()).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(getUserMedia).toHaveBeenCalledOnce();
  });
});
