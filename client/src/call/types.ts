// The call's state as the UI sees it: plain immutable snapshots, one per change.
import type { Grants } from '@guise/shared';
import type { VideoPipeline } from '../pipeline/VideoPipeline.ts';

export type CallStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed';

export interface RemotePeer {
  id: string;
  displayName: string;
  videoTrack: MediaStreamTrack | null;
  audioTrack: MediaStreamTrack | null;
  /** The sender turned its camera off (the producer is paused). */
  videoPaused: boolean;
  /** The sender muted its microphone. */
  audioPaused: boolean;
  /** The sender declared its video synthetic (producer appData.synthetic). */
  synthetic: boolean;
  /** Not synthetic now, but its video was declared synthetic earlier in this call. */
  wasSynthetic: boolean;
  identityLabel: string | null;
}

export interface LocalMedia {
  /** What is published and shown in the local tile: the pipeline's output. */
  videoTrack: MediaStreamTrack | null;
  audioTrack: MediaStreamTrack | null;
  micMuted: boolean;
  cameraOff: boolean;
  synthetic: boolean;
  /** A room admin paused this kind; it stays set until the person turns it back on. */
  mutedByHost: { audio: boolean; video: boolean };
}

export interface CallState {
  status: CallStatus;
  room: string | null;
  displayName: string;
  /** This client's peer id in the room, once joined. */
  selfId: string | null;
  local: LocalMedia;
  /** Everyone else in the room, in join order. */
  peers: RemotePeer[];
  /** A message a person can act on, or null. */
  error: string | null;
  /** Not in the room and not trying to be: offer a rejoin button. */
  canRejoin: boolean;
  /** This peer's grants from the join answer; `roomAdmin` shows the host controls. */
  grants: Grants | null;
  /** A room admin locked the room: nobody new gets in. */
  locked: boolean;
  /** The server (cluster node) the call's signaling talks to, as an origin. */
  node: string;
}

export interface JoinOptions {
  room: string;
  displayName: string;
  /** A join token (from an invite link's `?token=`); the server needs one when it has GUISE_AUTH_SECRET. */
  token?: string | null;
  /** Raw camera track; the session owns it (and stops it on leave). */
  video?: MediaStreamTrack | null;
  /** Microphone track; the session owns it (and stops it on leave). */
  audio?: MediaStreamTrack | null;
  /** A pipeline already running on `video` (the lobby's preview); the session owns it from now on. */
  pipeline?: VideoPipeline | null;
}
