// Words for what went wrong in a call, phrased so a person knows what to do.
import { RoomCloseReason } from '@guise/shared';
import { SignalingError } from './signaling.ts';

export function unreachableMessage(serverUrl: string): string {
  return `Can't reach the Guise server at ${serverUrl}. Retrying…`;
}

export const connectionLostMessage = 'Lost the connection to the server. Reconnecting…';
export const disconnectedMessage = 'Disconnected from the server.';

const closeReasons: Record<RoomCloseReason, string> = {
  media_worker_died: 'its media server stopped',
  server_shutdown: 'the server is shutting down',
  closed_by_operator: 'the service\'s operator closed it',
};

export function roomClosedMessage(reason: string): string {
  const known = RoomCloseReason.safeParse(reason);
  const why = known.success ? closeReasons[known.data] : reason;
  return `The room closed (${why}). Rejoin to continue.`;
}

export function errorText(err: unknown): string {
  if (err instanceof SignalingError) return err.message;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * The lobby's message for a join the server refused for a reason the person
 * can act on, or undefined for failures the call view handles (room full,
 * connection trouble), which offer a rejoin instead.
 */
export function joinRefusal(err: unknown): string | undefined {
  if (!(err instanceof SignalingError)) return undefined;
  switch (err.code) {
    case 'unauthorized':
      return `This room needs a valid invite link (${err.message}). Ask the host for a new link and open it.`;
    case 'forbidden':
      return `You can't join this room that way: ${err.message}.`;
    case 'name_taken':
      return `That name is taken: ${err.message}.`;
    case 'room_locked':
      return 'The host has locked this room, so nobody new can join. Ask them to unlock it, then join again.';
    case 'rate_limited':
      return 'Too many attempts in a short time. Wait a few seconds, then join again.';
    default:
      return undefined;
  }
}

export const removedByHostMessage = 'The host removed you from the call. You can join again unless the host locks the room.';

export function hostMutedMessage(kind: 'audio' | 'video'): string {
  return kind === 'audio'
    ? 'The host muted your microphone. You can unmute it yourself.'
    : 'The host turned off your camera. You can turn it back on yourself.';
}

/** "Couldn't <what>: <why>" for a failed step of the call. */
export function failedMessage(what: string, err: unknown): string {
  return `Couldn't ${what}: ${errorText(err)}`;
}
