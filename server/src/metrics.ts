// Prometheus metrics (/metrics): the rooms and media objects the server holds,
// and each media worker's CPU and memory. Values are read when scraped.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { WorkerPool } from './media/WorkerPool.ts';
import type { RoomRegistry } from './rooms/RoomRegistry.ts';

export function createMetrics(rooms: RoomRegistry, pool: WorkerPool, probeTimeoutMs: number): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'guise_node_' });

  const counts = () => {
    let r = 0, peers = 0;
    const producers = { audio: 0, video: 0 };
    const consumers = { audio: 0, video: 0 };
    for (const room of rooms.all) {
      r++;
      for (const peer of room.members) {
        peers++;
        for (const p of peer.producers.values()) producers[p.kind]++;
        for (const c of peer.consumers.values()) consumers[c.kind]++;
      }
    }
    return { rooms: r, peers, producers, consumers };
  };

  new Gauge({ name: 'guise_rooms', help: 'Open rooms', registers: [registry], collect() { this.set(counts().rooms); } });
  new Gauge({ name: 'guise_peers', help: 'Peers in rooms', registers: [registry], collect() { this.set(counts().peers); } });
  for (const [name, help, pick] of [
    ['guise_producers', 'Producers, by kind', (c: ReturnType<typeof counts>) => c.producers],
    ['guise_consumers', 'Consumers, by kind', (c: ReturnType<typeof counts>) => c.consumers],
  ] as const) {
    new Gauge({
      name, help, labelNames: ['kind'], registers: [registry],
      collect() {
        const byKind = pick(counts());
        this.set({ kind: 'audio' }, byKind.audio);
        this.set({ kind: 'video' }, byKind.video);
      },
    });
  }

  // One probe per scrape feeds all three worker gauges.
  let probing: ReturnType<WorkerPool['probe']> | undefined;
  const probeOnce = () => {
    probing ??= pool.probe(probeTimeoutMs).finally(() => { probing = undefined; });
    return probing;
  };
  const workerGauge = (name: string, help: string, value: (p: Awaited<ReturnType<WorkerPool['probe']>>[number]) => number | undefined) =>
    new Gauge({
      name, help, labelNames: ['pid'], registers: [registry],
      async collect() {
        this.reset();
        for (const p of await probeOnce()) {
          const v = value(p);
          if (v !== undefined) this.set({ pid: String(p.pid) }, v);
        }
      },
    });
  workerGauge('guise_media_worker_up', '1 when the media worker answered a bounded request, else 0', (p) => (p.alive ? 1 : 0));
  // mediasoup reports getrusage(): CPU times in ms, max RSS in KiB.
  workerGauge('guise_media_worker_cpu_seconds', 'CPU time the media worker has used (user + system), seconds',
    (p) => p.usage && (p.usage.ru_utime + p.usage.ru_stime) / 1000);
  workerGauge('guise_media_worker_max_rss_bytes', 'Peak resident memory of the media worker, bytes', (p) => p.usage && p.usage.ru_maxrss * 1024);
  return registry;
}
