// Owns the mediasoup worker processes: one per core by default. Routers go to
// the least-loaded worker. A worker that dies is replaced; the routers it
// hosted die with it, and their rooms close themselves (see Room).
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import { mediaCodecs } from './codecs.ts';
import { withTimeout } from './timeout.ts';

/** One worker's answer to a bounded resource-usage request; `usage` is undefined when it did not answer in time. */
export interface WorkerProbe { pid: number; alive: boolean; usage: types.WorkerResourceUsage | undefined }

export interface WorkerPoolOptions { size: number; log: Logger }

export class WorkerPool extends EventEmitter<{ replaced: [deadPid: number, newPid: number] }> {
  private readonly workers: types.Worker[] = [];
  private closed = false;
  /** Replacements being started: a room created meanwhile waits for one. */
  private readonly starting = new Set<Promise<unknown>>();

  private constructor(private readonly opts: WorkerPoolOptions) { super(); }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    for (let i = 0; i < opts.size; i++) pool.workers.push(await pool.spawn());
    return pool;
  }

  get pids(): number[] { return this.workers.map((w) => w.pid); }

  /** Asks every worker for its resource usage, each bounded by `timeoutMs`: a hung worker reads as not alive. */
  probe(timeoutMs: number): Promise<WorkerProbe[]> {
    return Promise.all(this.workers.map(async (w) => {
      try {
        const usage = await withTimeout(w.getResourceUsage(), timeoutMs, 'report its resource usage');
        return { pid: w.pid, alive: true, usage };
      } catch {
        return { pid: w.pid, alive: false, usage: undefined };
      }
    }));
  }

  async createRouter(): Promise<types.Router> {
    // Right after a worker died (a rejoin click), its replacement may still be starting.
    if (this.workers.length === 0 && this.starting.size > 0) await Promise.race(this.starting);
    const worker = this.leastLoaded();
    return worker.createRouter({ mediaCodecs });
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) w.close();
    this.workers.length = 0;
  }

  private leastLoaded(): types.Worker {
    if (this.workers.length === 0) throw new Error('no mediasoup worker is running');
    const load = (w: types.Worker) => (w.appData as { routers: number }).routers;
    return this.workers.reduce((best, w) => (load(w) < load(best) ? w : best));
  }

  private async spawn(): Promise<types.Worker> {
    const worker = await mediasoup.createWorker<{ routers: number }>({
      logLevel: 'warn',
      appData: { routers: 0 },
    });
    worker.observer.on('newrouter', (router) => {
      worker.appData.routers++;
      router.observer.once('close', () => worker.appData.routers--);
    });
    worker.once('died', (err) => void this.replace(worker, err));
    this.opts.log.info({ pid: worker.pid }, 'mediasoup worker started');
    return worker;
  }

  private async replace(dead: types.Worker, err: Error): Promise<void> {
    this.opts.log.error({ pid: dead.pid, err: err.message }, 'mediasoup worker died; starting a replacement');
    const i = this.workers.indexOf(dead);
    if (i >= 0) this.workers.splice(i, 1);
    if (this.closed) return;
    const spawning = this.spawn();
    this.starting.add(spawning);
    try {
      const fresh = await spawning;
      if (this.closed) { fresh.close(); return; }
      this.workers.push(fresh);
      this.emit('replaced', dead.pid, fresh.pid);
    } catch (e) {
      this.opts.log.fatal({ err: (e as Error).message }, 'could not start a replacement mediasoup worker');
    } finally {
      this.starting.delete(spawning);
    }
  }
}
