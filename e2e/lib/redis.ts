// Debian's redis-server on a free loopback port, for the cluster tests
// (./guise setup installs it). No persistence: each run starts empty.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './server.ts';

export interface RunningRedis { url: string; process: ChildProcess; stop(): Promise<void> }

export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const child = spawn(process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`redis-server could not start (./guise setup installs it): ${err.message}`)));
    child.stdout!.on('data', (d: Buffer) => {
      printed += d.toString();
      if (printed.includes('Ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server exited:\n${printed}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
