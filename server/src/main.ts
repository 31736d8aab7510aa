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

let stopping = false;
/** Tells every peer, closes the media workers, exits 0 (or 1 past the deadline). */
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: telling peers, closing media workers');
  setTimeout(() => {
    log.error('shutdown did not finish in time; exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  void app.close().then(() => process.exit(0));
}

// In a cluster, SIGTERM (what an orchestrator sends) drains first: no new
// rooms here, the open ones go on until they end, then the node stops. A
// second signal, or SIGINT (Ctrl-C), stops at once.
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => {
  if (!app.cluster || app.cluster.isDraining) { stop('SIGTERM'); return; }
  void app.drain().then(() => stop('SIGTERM (drained)'));
});
