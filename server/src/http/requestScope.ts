// Errors that escape one request (a throw in a timer or listener it started)
// must not end the process and every call on it. Each HTTP request and each
// signaling message runs in a scope; the process-level handler logs an
// exception raised inside one and carries on, and exits only for the rest.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../log.ts';

export interface RequestScope { kind: 'http' | 'signaling'; what: string }

const scopes = new AsyncLocalStorage<RequestScope>();

export function inRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

export function currentRequestScope(): RequestScope | undefined {
  return scopes.getStore();
}

let installed = false;

/** Installs the process-level handlers once. Errors outside any request are the server's own: log and exit. */
export function installProcessGuards(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (installed) return;
  installed = true;
  const onError = (err: unknown, origin: string) => {
    const scope = currentRequestScope();
    if (scope) {
      log.error({ err, origin, ...scope }, 'a request raised an error outside its handler; the server carries on');
      return;
    }
    log.fatal({ err, origin }, 'uncaught error; exiting');
    exit(1);
  };
  process.on('uncaughtException', (err) => onError(err, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => onError(reason, 'unhandledRejection'));
}
