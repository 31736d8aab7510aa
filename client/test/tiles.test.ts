import { describe, expect, it } from 'vitest';
import type { CallState } from '../src/call/types.ts';
import { initials, tilesOf } from '../src/ui/tiles.ts';

const track = (kind: string) => ({ kind }) as unknown as MediaStreamTrack;

const state = (over: Partial<CallState> = {}): CallState => ({
  status: 'connected',
  room: 'r',
  displayName: 'Me',
  selfId: 'self',
  local: { videoTrack: track('video'), audioTrack: track('audio'), micMuted: false, cameraOff: false, synthetic: false, mutedByHost: { audio: false, video: false } },
  peers: [],
  error: null,
  canRejoin: false,
  grants: null,
  locked: false,
  node: 'http://localhost:3000',
  ...over,
});

describe('tilesOf', () => {
  it('puts the local tile first, without its audio', () => {
    const [self] = tilesOf(state());
    expect(self).toMatchObject({ id: 'local', local: true, displayName: 'Me', audioTrack: null, videoOff: false, audioOff: false });
  });

  it('marks paused or missing media as off, and carries the synthetic flag', () => {
    const tiles = tilesOf(state({
      local: { videoTrack: null, audioTrack: track('audio'), micMuted: true, cameraOff: false, synthetic: false, mutedByHost: { audio: true, video: false } },
      peers: [
        { id: 'a', displayName: 'A', videoTrack: track('video'), audioTrack: track('audio'), videoPaused: true, audioPaused: false, synthetic: true, wasSynthetic: false, identityLabel: null },
        { id: 'b', displayName: 'B', videoTrack: null, audioTrack: null, videoPaused: false, audioPaused: false, synthetic: false, wasSynthetic: true, identityLabel: null },
      ],
    }));
    expect(tiles.map((t) => [t.id, t.videoOff, t.audioOff, t.synthetic, t.wasSynthetic])).toEqual([
      ['local', true, true, false, false],
      ['a', true, false, true, false],
      ['b', true, true, false, true],
    ]);
    // The host's mute shows on the local tile while it lasts.
    expect(tiles[0]!.mutedByHost).toEqual(['mic']);
  });
});

describe('initials', () => {
  it('takes first and last initials', () => {
    expect(initials('ada lovelace')).toBe('AL');
    expect(initials('Grace Brewster Hopper')).toBe('GH');
    expect(initials('Ω')).toBe('Ω');
    expect(initials('  ')).toBe('?');
  });
});
