import type { ErrorCode } from '@guise/shared';

/** An error meant for the client: its code and message go into the ack (and `location`, for `moved`). */
export class RequestError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly location?: string) { super(message); }
}
