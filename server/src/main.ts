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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    void app.close().then(() => process.exit(0));
  });
}
