// This node's part in a cluster coordinated through Redis (REDIS_URL):
// it heartbeats its load under a key with a TTL, claims rooms in the
// room → node map with SET NX and a TTL it refreshes while the room is open,
// and routes each join for a room it does not have (placement.ts decides).
// A node that stops heartbeating (killed, cut off) drops out when its keys
// expire; one that exits cleanly deletes them at once.
import os from 'node:os';
import { createClient } from 'redis';
import type { ClusterConfig } from '../config.ts';
import { RequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { liveNodes, type NodeLoad, parseNodeLoad, routeJoin } from './placement.ts';

export type RedisClient = ReturnType<typeof createClient>;

export type ClusterOptions = Pick<ClusterConfig, 'redisUrl' | 'nodeId' | 'capacity' | 'ttlMs'>;

/** Where a join goes: this node opens the room, or the client reconnects to `url`. */
export type Placement = { local: true } | { local: false; url: string };

const PREFIX = 'guise:';
const nodeKey = (id: string) => `${PREFIX}node:${id}`;
const roomKey = (room: string) => `${PREFIX}room:${room}`;
/** Node ids by last heartbeat, so the live ones can be listed without SCAN. */
const NODES = `${PREFIX}nodes`;
/** Every node origin with its last heartbeat: a page a node served outlives the node, and may still connect to the others. */
const ORIGINS = `${PREFIX}origins`;
/** How long a gone node's pages may still open connections to the rest of the cluster. */
const ORIGIN_MEMORY_MS = 7 * 86400_000;

/** Refreshes this node's claims (KEYS) with TTL ARGV[2]; a claim that lapsed (Redis restarted, a long stall) is taken back if free. */
const REFRESH_CLAIMS = `
for _, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2])
  elseif not owner then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
end
return 0`;
/** Deletes KEYS[1] only while it still names ARGV[1]: never someone else's newer claim. */
const DELETE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** At most this many claim/redirect rounds for one join: each lost race means another node settled it. */
const MAX_ROUTE_ROUNDS = 4;
/** A join waits no longer than this for Redis: while it is away, commands queue until it is back. */
const ROUTE_DEADLINE_MS = 3000;

export class ClusterNode {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private draining = false;
  private stopped = false;
  /** The live nodes as of the last heartbeat (origins for CSP). */
  private view: NodeLoad[] = [];
  /** Origins of nodes live within ORIGIN_MEMORY_MS (for Origin checks). */
  private remembered: string[] = [];
  /**
   * Rooms this node placed on others since their last heartbeat (keyed by
   * node id, with that heartbeat's time), counted into their load so a burst
   * of new rooms does not all land on the node that looked idlest.
   */
  private readonly placedOn = new Map<string, { at: number; rooms: number; peers: number }>();
  /** The last CPU reading; the first only sets the baseline (start-up work is not load). */
  private cpuSample: { at: number; seconds: number } | undefined;
  private cpu = 0;
  /** The origin clients reach this node at (PUBLIC_URL, or its own address); set by register(). */
  private url = '';

  private constructor(
    private readonly redis: RedisClient,
    private readonly opts: ClusterOptions,
    private readonly rooms: RoomRegistry,
    private readonly pool: WorkerPool,
    private readonly log: Logger,
  ) {}

  /** Connects to Redis (register() then announces the node); fails with a clear message when Redis can't be reached. */
  static async connect(opts: ClusterOptions, rooms: RoomRegistry, pool: WorkerPool, log: Logger): Promise<ClusterNode> {
    let started = false;
    // Errors after the start are connection blips: node-redis reconnects, and joins meanwhile get `unavailable`.
    // At the start, no Redis is a configuration error: fail at once.
    const redis = createClient({
      url: opts.redisUrl,
      socket: { connectTimeout: 5000, reconnectStrategy: (n: number, cause: Error) => (started ? Math.min(100 * 2 ** n, 2000) : cause) },
    });
    redis.on('error', (err: Error) => { if (started) log.warn({ err: err.message }, 'redis connection error'); });
    try {
      await withDeadline(redis.connect(), 10_000, 'no answer in 10 s');
    } catch (err) {
      if (redis.isOpen) redis.destroy();
      throw new Error(`cluster mode: could not reach Redis at ${redactUrl(opts.redisUrl)} (${(err as Error).message})`);
    }
    started = true;
    const node = new ClusterNode(redis, opts, rooms, pool, log);
    rooms.on('closed', (id) => void node.release(id));
    return node;
  }

  /** Announces this node at `url` (an origin) and heartbeats from now on. */
  async register(url: string): Promise<void> {
    this.url = new URL(url).origin;
    await this.beat();
    this.timer = setInterval(() => { this.beating ??= this.beat().finally(() => { this.beating = undefined; }); }, this.opts.ttlMs / 3);
    this.timer.unref();
    this.log.info({ node: this.id, url: this.url, capacity: this.opts.capacity, ttlMs: this.opts.ttlMs }, 'cluster node registered');
  }

  get id(): string { return this.opts.nodeId; }
  get isDraining(): boolean { return this.draining; }
  /** The Redis connection, for the socket.io adapter to duplicate. */
  get client(): RedisClient { return this.redis; }

  /** Origins of the live nodes (this one included) as last seen: pages served by one may talk to another. */
  origins(): string[] {
    return [...new Set([this.url, ...this.view.map((n) => n.url)].filter(Boolean).map((u) => new URL(u).origin))];
  }

  /**
   * Origins whose pages may open a signaling connection here: every node
   * seen lately, dead ones included. When a node dies, the pages it served
   * (still open in people's browsers) must reach a live node to rejoin.
   */
  pageOrigins(): string[] {
    return [...new Set([...this.origins(), ...this.remembered])];
  }

  /** The live nodes as of the last heartbeat. */
  nodes(): NodeLoad[] { return [...this.view]; }

  /** Takes no new rooms from now on; the rooms it has go on. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.log.info('draining: no new rooms here; open rooms go on until they end');
    await this.beat();
  }

  /**
   * Where a join for `room` goes. Open here, or already claimed for here:
   * local. Claimed by another live node: there. Unclaimed: the least-loaded
   * live node, claimed atomically (SET NX) for whichever node it is.
   */
  async place(room: string): Promise<Placement> {
    const open = this.rooms.get(room);
    if (open && !open.isClosed) return { local: true };
    if (!this.url) throw new RequestError('unavailable', 'this node is still starting; try again');
    try {
      return await withDeadline(this.route(room), ROUTE_DEADLINE_MS, `Redis did not answer within ${ROUTE_DEADLINE_MS / 1000} s`);
    } catch (err) {
      if (err instanceof RequestError) throw err;
      this.log.warn({ room, err: (err as Error).message }, 'could not route a join through Redis');
      throw new RequestError('unavailable', 'the cluster\'s coordinator (Redis) is unreachable; try again shortly');
    }
  }

  private async route(room: string): Promise<Placement> {
    for (let round = 0; round < MAX_ROUTE_ROUNDS; round++) {
      const [owner, nodes] = await Promise.all([this.redis.get(roomKey(room)), this.readNodes()]);
      for (const n of nodes) {
        const placed = this.placedOn.get(n.id);
        if (placed?.at === n.at) { n.rooms += placed.rooms; n.peers += placed.peers; } else this.placedOn.delete(n.id);
      }
      const self = this.load();
      const route = routeJoin(owner, [self, ...nodes.filter((n) => n.id !== self.id)], self);
      switch (route.kind) {
        case 'open-here':
          return { local: true };
        case 'claim-here':
          if (await this.claim(room, self.id)) return { local: true };
          break;
        case 'claim-for':
          if (await this.claim(room, route.node.id)) {
            const placed = this.placedOn.get(route.node.id) ?? { at: route.node.at, rooms: 0, peers: 0 };
            this.placedOn.set(route.node.id, { at: placed.at, rooms: placed.rooms + 1, peers: placed.peers + 1 });
            this.log.info({ room, node: route.node.id }, 'placed a new room on another node');
            return { local: false, url: route.node.url };
          }
          break;
        case 'redirect':
          return { local: false, url: route.node.url };
        case 'drop-stale-claim':
          this.log.info({ room, owner: route.owner }, 'dropping the claim of a node that is gone or draining');
          await this.redis.eval(DELETE_IF_OWNER, { keys: [roomKey(room)], arguments: [route.owner] });
          break;
        case 'refuse':
          throw new RequestError('unavailable', route.reason);
      }
    }
    throw new RequestError('unavailable', 'could not settle which node holds this room; try again');
  }

  /** Stops heartbeating and deletes this node's keys, so other nodes place its rooms again at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    try {
      // A heartbeat waiting on an absent Redis must not hold up the shutdown.
      await withDeadline(this.beating ?? Promise.resolve(), 2000, 'the last heartbeat did not finish');
      const multi = this.redis.multi().del(nodeKey(this.id)).zRem(NODES, this.id);
      for (const room of this.rooms.all) multi.eval(DELETE_IF_OWNER, { keys: [roomKey(room.id)], arguments: [this.id] });
      await withDeadline(multi.exec(), 2000, 'deregistering timed out');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not deregister from Redis; its keys expire on their own');
    }
  }

  /** Closes the Redis connection (after stop(), and after socket.io's adapter has closed). */
  disconnect(): void {
    if (this.redis.isOpen) this.redis.destroy();
  }

  private claim(room: string, nodeId: string): Promise<boolean> {
    return this.redis.set(roomKey(room), nodeId, { condition: 'NX', expiration: { type: 'PX', value: this.opts.ttlMs } })
      .then((r) => r === 'OK');
  }

  private async release(room: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.redis.eval(DELETE_IF_OWNER, { keys: [roomKey(room)], arguments: [this.id] });
    } catch (err) {
      this.log.warn({ room, err: (err as Error).message }, 'could not release a room claim; it expires on its own');
    }
  }

  /** Live nodes from Redis: ids heartbeated within the TTL whose record is still there. */
  private async readNodes(): Promise<NodeLoad[]> {
    const now = Date.now();
    const ids = await this.redis.zRangeByScore(NODES, now - this.opts.ttlMs, '+inf');
    if (ids.length === 0) return [];
    const raw = await this.redis.mGet(ids.map(nodeKey));
    return liveNodes(raw.map((r) => parseNodeLoad(r)).filter((n): n is NodeLoad => n !== undefined), now, this.opts.ttlMs);
  }

  private load(): NodeLoad {
    let peers = 0;
    for (const room of this.rooms.all) peers += room.peerCount;
    return {
      id: this.id, url: this.url, rooms: this.rooms.size, peers, cpu: this.cpu, cores: os.availableParallelism(),
      capacity: this.opts.capacity, draining: this.draining, at: Date.now(),
    };
  }

  private async sampleCpu(): Promise<void> {
    const own = process.cpuUsage();
    const workers = await this.pool.probe(1000);
    const seconds = (own.user + own.system) / 1e6
      + workers.reduce((s, w) => s + (w.usage ? (w.usage.ru_utime + w.usage.ru_stime) / 1000 : 0), 0);
    const at = performance.now();
    const last = this.cpuSample;
    // A replaced worker restarts its count; a negative delta is not load.
    if (last && at > last.at) this.cpu = Math.max(0, (seconds - last.seconds) / ((at - last.at) / 1000));
    this.cpuSample = { at, seconds };
  }

  private async beat(): Promise<void> {
    if (this.stopped || !this.url) return;
    try {
      await this.sampleCpu();
      const self = this.load();
      const ttl = String(this.opts.ttlMs);
      const multi = this.redis.multi()
        .set(nodeKey(self.id), JSON.stringify(self), { expiration: { type: 'PX', value: this.opts.ttlMs } })
        .zAdd(NODES, { score: self.at, value: self.id })
        .zRemRangeByScore(NODES, '-inf', self.at - this.opts.ttlMs)
        .hSet(ORIGINS, this.url, String(self.at));
      const claims = [...this.rooms.all].map((r) => roomKey(r.id));
      if (claims.length > 0) multi.eval(REFRESH_CLAIMS, { keys: claims, arguments: [self.id, ttl] });
      await multi.exec();
      this.view = await this.readNodes();
      const seen = await this.redis.hGetAll(ORIGINS);
      const stale = Object.keys(seen).filter((o) => !(Number(seen[o]) > self.at - ORIGIN_MEMORY_MS));
      if (stale.length > 0) await this.redis.hDel(ORIGINS, stale);
      this.remembered = Object.keys(seen).filter((o) => !stale.includes(o) && /^https?:\/\/[^/\s]+$/.test(o));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cluster heartbeat failed; retrying');
    }
  }
}

function withDeadline<T>(op: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    op.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]);
}

/** A Redis URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
