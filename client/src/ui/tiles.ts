// What each tile in the call grid shows, derived from a CallState snapshot.
import type { CallState } from '../call/types.ts';

export interface TileModel {
  /** The peer id, or "local" for this browser's own tile. */
  id: string;
  local: boolean;
  displayName: string;
  videoTrack: MediaStreamTrack | null;
  /** Played through the tile's audio element; null for the local tile (no echo). */
  audioTrack: MediaStreamTrack | null;
  videoOff: boolean;
  audioOff: boolean;
  synthetic: boolean;
  /** Not synthetic now, but was earlier in this call: the tile says so for the rest of the call. */
  wasSynthetic: boolean;
  identityLabel: string | null;
  /** Local tile only: what a room admin turned off ("mic", "camera"), until the person turns it back on. */
  mutedByHost: ('mic' | 'camera')[];
}

export const LOCAL_TILE_ID = 'local';

export function tilesOf(state: CallState): TileModel[] {
  const { local } = state;
  const self: TileModel = {
    id: LOCAL_TILE_ID,
    local: true,
    displayName: state.displayName,
    videoTrack: local.videoTrack,
    audioTrack: null,
    videoOff: !local.videoTrack || local.cameraOff,
    audioOff: !local.audioTrack || local.micMuted,
    synthetic: local.synthetic,
    wasSynthetic: false,
    identityLabel: null,
    mutedByHost: [
      ...(local.mutedByHost.audio && local.micMuted ? ['mic' as const] : []),
      ...(local.mutedByHost.video && local.cameraOff ? ['camera' as const] : []),
    ],
  };
  const others = state.peers.map((p): TileModel => ({
    id: p.id,
    local: false,
    displayName: p.displayName,
    videoTrack: p.videoTrack,
    audioTrack: p.audioTrack,
    videoOff: !p.videoTrack || p.videoPaused,
    audioOff: !p.audioTrack || p.audioPaused,
    synthetic: p.synthetic,
    wasSynthetic: p.wasSynthetic,
    identityLabel: p.identityLabel,
    mutedByHost: [],
  }));
  return [self, ...others];
}

/** "Ada Lovelace" → "AL": shown when there is no picture. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]!, parts[parts.length - 1]!] : parts;
  return letters.map((p) => [...p][0]!.toUpperCase()).join('') || '?';
}
