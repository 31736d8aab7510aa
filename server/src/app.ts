// Wires the pieces: media workers → rooms → signaling → HTTP.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { JoinTokens } from './auth/joinTokens.ts';
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
  /** Tells every peer the server is stopping, then closes rooms, connections and media workers. */
  close(): Promise<void>;
}

/** How long /healthz and /metrics wait for a media worker before calling it dead. */
const WORKER_PROBE_TIMEOUT_MS = 2000;

export async function startApp(config: Config, log: Logger): Promise<App> {
  const pool = await WorkerPool.create({ size: config.workers, rtc: config.rtc, log });
  const rooms = new RoomRegistry(pool, log, config.mediaTimeoutMs);
  const metrics = createMetrics(rooms, pool, WORKER_PROBE_TIMEOUT_MS);
  const tokens = config.authSecret ? new JoinTokens(config.authSecret) : undefined;
  const sessions = new MediaSessions(log.child({ part: 'webrtc-http' }));
  const httpServer = createHttpServer(config, {
    // Liveness only: how many rooms are open is no business of an anonymous caller (/metrics has it).
    async health() {
      const workers = (await pool.probe(WORKER_PROBE_TIMEOUT_MS)).map(({ pid, alive }) => ({ pid, alive }));
      return { ok: workers.length > 0 && workers.every((w) => w.alive), workers };
    },
    async metrics() { return { contentType: metrics.contentType, body: await metrics.metrics() }; },
    webRtc: { rooms, sessions, tokens, sessionsPerIp: config.limits.connectionsPerIp, log: log.child({ part: 'webrtc-http' }) },
  }, log.child({ part: 'http' }));

  if (!config.authSecret) {
    log.warn('GUISE_AUTH_SECRET is unset: every room is open to anyone who can reach this server (see README, "Join tokens")');
  }
  const originPolicy = { allowed: config.allowedOrigins, publicOrigin: config.publicUrl && new URL(config.publicUrl).origin, tls: Boolean(config.tls) };
  // Signaling messages are small; a big one is an attack or a bug.
  const io = new SocketServer(httpServer, {
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
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
  const ctx: SignalingContext = { rooms, tokens, inviteBase: () => config.publicUrl ?? url, limits: config.limits, turn: config.turn };
  io.on('connection', (socket) => new Connection(socket, ctx, log.child({ sid: socket.id })));

  // once() rejects on 'error', so a taken port fails the start.
  await once(httpServer.listen(config.port, config.host), 'listening');
  const { port } = httpServer.address() as AddressInfo;
  url = `${config.tls ? 'https' : 'http'}://localhost:${port}`;
  log.info({ url, pid: process.pid, workers: pool.pids, auth: Boolean(tokens) }, 'guise server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    rooms,
    pool,
    close() {
      closing ??= (async () => {
        rooms.closeAll();
        // Each roomClosed notification is queued on its socket; engine.io closes a
        // socket only after its queue is written, so wait for that before cutting connections.
        const closed = [...io.of('/').sockets.values()].map((socket) => new Promise((resolve) => socket.conn.once('close', resolve)));
        io.close();
        await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        httpServer.closeAllConnections();
        if (httpServer.listening) await once(httpServer.close(), 'close');
        pool.close();
      })();
      return closing;
    },
  };
}
