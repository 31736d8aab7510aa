// Every request to a media worker is bounded: a worker that stops answering
// (hung, or starved of CPU) fails the request with media_timeout instead of
// leaving the caller waiting forever.
import { RequestError } from '../errors.ts';

/**
 * `op`'s result, or a media_timeout RequestError after `ms`. A result that
 * arrives after the timeout goes to `onLate` (to close what nobody will use).
 */
export function withTimeout<T>(op: Promise<T>, ms: number, what: string, onLate?: (late: T) => void): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new RequestError('media_timeout', `the media server did not ${what} within ${ms / 1000} s; try again`));
    }, ms);
  });
  void op.then(
    (late) => { if (timedOut) onLate?.(late); },
    () => { /* the caller saw the timeout; a late failure has nothing to undo */ },
  );
  return Promise.race([op, deadline]).finally(() => clearTimeout(timer));
}
