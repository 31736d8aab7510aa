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

/** "Couldn't <what>: <why>" for a failed step of the call. */
export function failedMessage(what: string, err: unknown): string {
  return `Couldn't ${what}: ${errorText(err)}`;
}
