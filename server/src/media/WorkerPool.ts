// Owns the mediasoup worker processes: one per core by default. Routers go to
// the least-loaded worker. A worker that dies is replaced; the routers it
// hosted die with it, and their rooms close themselves (see Room).
//
// Each worker has one WebRtcServer: every transport on that worker shares its
// one UDP and one TCP port (ICE tells the transports apart), so a server needs
// two ports per worker rather than two per transport.
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import { mediaCodecs } from './codecs.ts';
import { withTimeout } from './timeout.ts';

export interface RtcOptions {
  listenIp: string;
  announcedAddress: string | undefined;
  /** Worker i listens on port + i (UDP and TCP); undefined: any free port in minPort–maxPort. */
  port: number | undefined;
  minPort: number;
  maxPort: number;
}

export interface WorkerPoolOptions { size: number; rtc: RtcOptions; log: Logger }

/** A router and the WebRtcServer of the worker it runs on, which its transports listen through. */
export interface RouterHome { router: types.Router; webRtcServer: types.WebRtcServer }

/** One worker's answer to a bounded resource-usage request; `usage` is undefined when it did not answer in time. */
export interface WorkerProbe { pid: number; alive: boolean; usage: types.WorkerResourceUsage | undefined }

interface WorkerAppData { [key: string]: unknown; index: number; routers: number; webRtcServer?: types.WebRtcServer }
type Worker = types.Worker<WorkerAppData>;

export class WorkerPool extends EventEmitter<{ replaced: [deadPid: number, newPid: number] }> {
  private readonly workers: Worker[] = [];
  private closed = false;
  /** Replacements being started: a room created meanwhile waits for one. */
  private readonly starting = new Set<Promise<unknown>>();
  /** Which worker each router runs on. */
  private readonly homes = new WeakMap<types.Router, Worker>();

  private constructor(private readonly opts: WorkerPoolOptions) { super(); }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      for (let i = 0; i < opts.size; i++) pool.workers.push(await pool.spawn(i));
    } catch (err) {
      pool.close();
      throw err;
    }
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

  /**
   * A router with the room codecs on the least-loaded worker; or, `beside` an
   * existing router, one on that router's worker with `codecs` (a WHEP
   * viewer's own router, whose payload types are its player's: see
   * webrtcHttp/MediaSessions.ts), so piping between the two stays in one process.
   */
  async createRouter(codecs: types.RouterRtpCodecCapability[] = mediaCodecs, beside?: types.Router): Promise<RouterHome> {
    // Right after a worker died (a rejoin click), its replacement may still be starting.
    if (this.workers.length === 0 && this.starting.size > 0) await Promise.race(this.starting);
    const worker = (beside && this.homes.get(beside)) || this.leastLoaded();
    const router = await worker.createRouter({ mediaCodecs: codecs });
    this.homes.set(router, worker);
    return { router, webRtcServer: worker.appData.webRtcServer! };
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) w.close();
    this.workers.length = 0;
  }

  private leastLoaded(): Worker {
    if (this.workers.length === 0) throw new Error('no mediasoup worker is running');
    return this.workers.reduce((best, w) => (w.appData.routers < best.appData.routers ? w : best));
  }

  private async spawn(index: number): Promise<Worker> {
    const worker = await mediasoup.createWorker<WorkerAppData>({ logLevel: 'warn', appData: { index, routers: 0 } });
    const { listenIp, announcedAddress, port, minPort, maxPort } = this.opts.rtc;
    const where = port === undefined ? { portRange: { min: minPort, max: maxPort } } : { port: port + index };
    try {
      worker.appData.webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: listenIp, announcedAddress, ...where },
          { protocol: 'tcp', ip: listenIp, announcedAddress, ...where },
        ],
      });
    } catch (err) {
      worker.close();
      const which = port === undefined ? `a port in ${minPort}-${maxPort}` : `port ${port + index} (RTC_PORT + ${index})`;
      throw new Error(`media worker ${index} could not listen on ${which}: ${(err as Error).message}`);
    }
    worker.observer.on('newrouter', (router) => {
      worker.appData.routers++;
      router.observer.once('close', () => worker.appData.routers--);
    });
    worker.once('died', (err) => void this.replace(worker, err));
    const { udpSockets, tcpServers } = await withTimeout(worker.appData.webRtcServer.dump(), 10_000, 'report its ports');
    this.opts.log.info({ pid: worker.pid, udpPort: udpSockets[0]?.port, tcpPort: tcpServers[0]?.port }, 'mediasoup worker started');
    return worker;
  }

  private async replace(dead: Worker, err: Error): Promise<void> {
    this.opts.log.error({ pid: dead.pid, err: err.message }, 'mediasoup worker died; starting a replacement');
    const i = this.workers.indexOf(dead);
    if (i >= 0) this.workers.splice(i, 1);
    if (this.closed) return;
    // The replacement takes the dead worker's place, and so its port.
    const spawning = this.spawn(dead.appData.index);
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
