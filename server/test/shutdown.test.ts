// `./guise serve` (what `./guise run` ends in) as a real child process: the
// node server must be the process the signal reaches (exec all the way down,
// no pnpm wrapper), and on SIGINT or SIGTERM it tells peers and closes its
// media workers before exiting 0.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { joinWithMedia, TestClient } from './helpers.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('./guise serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('is the node server itself, and on %s tells peers and closes its workers', async (signal) => {
    const child = spawn('bash', ['guise', 'serve'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stderr!.on('data', (chunk: Buffer) => { printed += chunk.toString(); });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    const listening = await new Promise<{ url: string; pid: number; workers: number[] }>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        printed += `${line}\n`;
        if (line.includes('"guise server listening"')) resolve(JSON.parse(line) as { url: string; pid: number; workers: number[] });
      });
      void exited.then(() => reject(new Error(`./guise serve exited before listening:\n${printed}`)));
    });
    // The shell exec'd into node: the pid we signal is the server's.
    expect(listening.pid, printed).toBe(child.pid);

    const alice = await TestClient.connect(listening.url);
    await joinWithMedia(alice, 'shutdown', 'Alice', 9999);
    child.kill(signal);
    expect(await alice.next('roomClosed')).toEqual({ reason: 'server_shutdown' });
    expect(await exited, printed).toEqual({ code: 0, signal: null });
    for (const pid of listening.workers) {
      while (isRunning(pid)) await new Promise((r) => setTimeout(r, 20));
    }
    alice.close();
  });
});
