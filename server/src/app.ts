// Wires the pieces: media workers → rooms → signaling → HTTP.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server as SocketServer } from 'socket.io';
import { JoinTokens } from './auth/joinTokens.ts';
import { ClusterNode } from './cluster/ClusterNode.ts';
import type { Config } from './config.ts';
import { createHttpServer } from './http.ts';
import type { Logger } from './log.ts';
import { WorkerPool } from './media/WorkerPool.ts';
import { createMetrics } from './metrics.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { Connection, type SignalingContext } from './signaling/Connection.ts';
import { originAllowed } from './signaling/origin.ts';
import { MediaSessions } from './webrtcHttp/MediaSessions.ts';

export interface App {
  url: string;
  rooms: RoomRegistry;
  /** The media workers (tests kill one to check recovery). */
  pool: WorkerPool;
  /** Set in cluster mode (REDIS_URL). */
  cluster: ClusterNode | undefined;
  /**
   * Cluster mode: takes no new rooms and resolves once every open room has
   * ended (or DRAIN_TIMEOUT_S passed); close() then stops the node.
   */
  drain(): Promise<void>;
  /** Tells every peer the server is stopping, then closes rooms, connections and media workers. */
  close(): Promise<void>;
}

/** A room, as listed across the cluster (GET /cluster). */
interface ListedRoom { id: string; node: string; peers: number }

/** How long /healthz and /metrics wait for a media worker before calling it dead. */
const WORKER_PROBE_TIMEOUT_MS = 2000;

export async function startApp(config: Config, log: Logger): Promise<App> {
  const pool = await WorkerPool.create({ size: config.workers, rtc: config.rtc, log });
  const rooms = new RoomRegistry(pool, log, config.mediaTimeoutMs);
  let cluster: ClusterNode | undefined;
  try {
    cluster = config.cluster && await ClusterNode.connect(config.cluster, rooms, pool, log.child({ part: 'cluster' }));
  } catch (err) {
    pool.close();
    throw err;
  }
  const localRooms = (): ListedRoom[] => [...rooms.all].map((r) => ({ id: r.id, node: cluster?.id ?? 'local', peers: r.peerCount }));
  // Set once socket.io exists: the rooms of every node, asked through the adapter.
  let clusterRooms: () => Promise<ListedRoom[]> = async () => localRooms();
  const metrics = createMetrics(rooms, pool, WORKER_PROBE_TIMEOUT_MS);
  const tokens = config.authSecret ? new JoinTokens(config.authSecret) : undefined;
  const sessions = new MediaSessions(log.child({ part: 'webrtc-http' }));
  const httpServer = createHttpServer(config, {
    // Liveness only: how many rooms are open is no business of an anonymous caller (/metrics has it).
    async health() {
      const workers = (await pool.probe(WORKER_PROBE_TIMEOUT_MS)).map(({ pid, alive }) => ({ pid, alive }));
      return { ok: workers.length > 0 && workers.every((w) => w.alive), workers, ...(cluster ? { draining: cluster.isDraining } : {}) };
    },
    async metrics() { return { contentType: metrics.contentType, body: await metrics.metrics() }; },
    webRtc: { rooms, sessions, tokens, sessionsPerIp: config.limits.connectionsPerIp, log: log.child({ part: 'webrtc-http' }) },
    ...(cluster ? {
      cluster: {
        list: async () => ({ node: cluster.id, draining: cluster.isDraining, nodes: cluster.nodes(), rooms: await clusterRooms() }),
        closeRoom: async (id: string) => {
          rooms.get(id)?.close('closed_by_operator');
          io.serverSideEmit('guise:closeRoom', id);
        },
      },
    } : {}),
  }, log.child({ part: 'http' }), () => cluster?.origins() ?? []);

  if (!config.authSecret) {
    log.warn('GUISE_AUTH_SECRET is unset: every room is open to anyone who can reach this server (see README, "Join tokens")');
  }
  const originPolicy = {
    allowed: config.allowedOrigins, publicOrigin: config.publicUrl && new URL(config.publicUrl).origin, tls: Boolean(config.tls),
    clusterOrigins: () => cluster?.pageOrigins() ?? [],
  };
  // Signaling messages are small; a big one is an attack or a bug.
  const io = new SocketServer(httpServer, {
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
    // A cluster sits behind plain load balancing: WebSocket only, so no request of a session lands on another node.
    ...(cluster ? { transports: ['websocket' as const], adapter: createAdapter(cluster.client, { streamName: 'guise:socket.io' }) } : {}),
    allowRequest: (req, callback) => {
      const allowed = originAllowed(req.headers.origin, req.headers.host, originPolicy);
      if (!allowed) log.info({ origin: req.headers.origin?.slice(0, 200) }, 'refused a signaling connection from another origin');
      callback(allowed ? null : 'origin not allowed', allowed);
    },
  });
  const connectionsPerIp = new Map<string, number>();
  io.use((socket, next) => {
    const ip = socket.handshake.address;
    const count = connectionsPerIp.get(ip) ?? 0;
    if (count >= config.limits.connectionsPerIp) {
      next(new Error(`too many connections from your address (at most ${config.limits.connectionsPerIp})`));
      return;
    }
    connectionsPerIp.set(ip, count + 1);
    socket.once('disconnect', () => {
      const left = (connectionsPerIp.get(ip) ?? 1) - 1;
      if (left > 0) connectionsPerIp.set(ip, left); else connectionsPerIp.delete(ip);
    });
    next();
  });
  let url = '';
  const ctx: SignalingContext = { rooms, tokens, inviteBase: () => config.publicUrl ?? url, limits: config.limits, turn: config.turn, cluster };
  io.on('connection', (socket) => new Connection(socket, ctx, log.child({ sid: socket.id })));
  if (cluster) {
    // Cross-node requests ride the socket.io adapter (Redis streams): each node answers for its own rooms.
    io.on('guise:rooms', (reply: (rooms: ListedRoom[]) => void) => reply(localRooms()));
    io.on('guise:closeRoom', (id: string) => rooms.get(id)?.close('closed_by_operator'));
    clusterRooms = async () => {
      // A node that does not answer (the adapter's own timeout) leaves its rooms out rather than failing the list.
      const others = await (io.serverSideEmitWithAck('guise:rooms') as Promise<ListedRoom[][]>).catch(() => [] as ListedRoom[][]);
      return [...localRooms(), ...others.flat()];
    };
  }

  // once() rejects on 'error', so a taken port fails the start.
  try {
    await once(httpServer.listen(config.port, config.host), 'listening');
  } catch (err) {
    await cluster?.stop();
    io.close();
    cluster?.disconnect();
    pool.close();
    throw err;
  }
  const { port } = httpServer.address() as AddressInfo;
  url = `${config.tls ? 'https' : 'http'}://localhost:${port}`;
  if (cluster && !config.publicUrl) {
    log.warn({ url }, 'cluster mode without PUBLIC_URL: other nodes send clients to this address, which only works on this machine');
  }
  await cluster?.register(config.publicUrl ?? url);
  log.info({ url, pid: process.pid, workers: pool.pids, auth: Boolean(tokens), node: cluster?.id }, 'guise server listening');

  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  return {
    url,
    rooms,
    pool,
    cluster,
    drain() {
      draining ??= (async () => {
        if (!cluster) return;
        await cluster.drain();
        const deadline = config.cluster!.drainTimeoutMs;
        log.info({ rooms: rooms.size, timeoutS: deadline / 1000 }, 'draining: waiting for open rooms to end');
        await new Promise<void>((resolve) => {
          const check = () => { if (rooms.size === 0) done(); };
          const timer = setTimeout(() => { log.warn({ rooms: rooms.size }, 'drain timeout: closing the rooms still open'); done(); }, deadline);
          timer.unref();
          const done = () => { clearTimeout(timer); rooms.off('closed', check); resolve(); };
          rooms.on('closed', check);
          check();
        });
      })();
      return draining;
    },
    close() {
      closing ??= (async () => {
        // Deregister first: other nodes place this node's rooms again at once, before its peers rejoin.
        await cluster?.stop();
        rooms.closeAll();
        // Each roomClosed notification is queued on its socket; engine.io closes a
        // socket only after its queue is written, so wait for that before cutting connections.
        const closed = [...io.of('/').sockets.values()].map((socket) => new Promise((resolve) => socket.conn.once('close', resolve)));
        io.close();
        await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        httpServer.closeAllConnections();
        if (httpServer.listening) await once(httpServer.close(), 'close');
        pool.close();
        cluster?.disconnect();
      })();
      return closing;
    },
  };
}
