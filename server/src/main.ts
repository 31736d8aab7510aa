import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from './app.ts';
import { loadConfig } from './config.ts';
import { installProcessGuards } from './http/requestScope.ts';
import { createLogger } from './log.ts';

const config = loadConfig();
config.clientDist ??= path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../client/dist');
const log = createLogger(config.logLevel);
installProcessGuards(log);
const app = await startApp(config, log);

/** A shutdown that has not finished by then (a hung media worker, a stuck socket) ends anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down: telling peers, closing media workers');
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    void app.close().then(() => process.exit(0));
  });
}
