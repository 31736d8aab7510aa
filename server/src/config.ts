// Server configuration, read once from the environment.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { z } from 'zod';
import type { TurnConfig } from './auth/turnCredentials.ts';
import type { RtcOptions } from './media/WorkerPool.ts';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Address mediasoup binds RTC sockets to. */
  RTC_LISTEN_IP: z.string().default('0.0.0.0'),
  /** Address put in ICE candidates; needed when listening on 0.0.0.0 or behind NAT. */
  RTC_ANNOUNCED_ADDRESS: z.string().optional(),
  /** Media worker i listens on RTC_PORT + i, UDP and TCP; unset: each picks a free port in RTC_MIN_PORT–RTC_MAX_PORT. */
  RTC_PORT: z.coerce.number().int().min(1024).max(65535).optional(),
  RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(40000),
  RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(49999),
  MEDIASOUP_WORKERS: z.coerce.number().int().min(1).max(64).default(os.availableParallelism()),
  /** getUserMedia needs a secure context beyond localhost: give a cert to serve https. */
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  CLIENT_DIST: z.string().optional(),
  /** A neural swap model folder (identity/conditioner/generator.onnx + manifest.json) served at /models/idn/, over the one built into the client. */
  IDN_MODEL_DIR: z.string().optional(),
  /** Signs and checks join tokens (HS256). Unset: every room is open to anyone who reaches the server. */
  GUISE_AUTH_SECRET: z.string().min(32, 'GUISE_AUTH_SECRET must be at least 32 characters').optional(),
  /** The address people open, for invite links; default http(s)://localhost:PORT. */
  PUBLIC_URL: z.url().optional(),
  /** Comma-separated origins allowed to open a signaling connection; default: the server's own (the Host it was reached at) and PUBLIC_URL's. */
  ALLOWED_ORIGINS: z.string().optional(),
  /** Several people behind one NAT share an address: room for a few full rooms' worth. */
  MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(32),
  /**
   * Signaling messages per second a connection may sustain, and the burst it
   * may send at once. Joining a full room (16 peers, 4 producers each) takes
   * about 130 messages at once: a consume and a resume per producer.
   */
  SIGNAL_RATE: z.coerce.number().positive().default(50),
  SIGNAL_BURST: z.coerce.number().int().min(1).default(200),
  /** A connection that is in no room and sends nothing for this long is closed. */
  IDLE_TIMEOUT_S: z.coerce.number().positive().default(60),
  /** How long any one request to a media worker may take before it fails (and is rolled back). */
  MEDIA_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  /** Bearer token for /metrics; unset: /metrics answers only requests from this machine (loopback). */
  METRICS_TOKEN: z.string().min(1).optional(),
  /** Comma-separated turn:/turns: URLs handed to browsers; needs TURN_SECRET. */
  TURN_URLS: z.string().optional(),
  /** coturn's static-auth-secret (use-auth-secret): each peer gets credentials derived from it. */
  TURN_SECRET: z.string().min(16, 'TURN_SECRET must be at least 16 characters').optional(),
  /** How long a peer's TURN credentials stay valid. */
  TURN_TTL_S: z.coerce.number().int().min(60).max(7 * 86400).default(86400),
  /** Cluster mode: redis:// or rediss:// URL of the Redis that holds the node registry and the room → node map. */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// or rediss:// URL' }).optional(),
  /** This node's name in the cluster; default: host name, pid and a random suffix. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'NODE_ID must be 1-64 letters, digits, ".", "_" or "-"').optional(),
  /** Peers this node holds before it refuses new rooms (cluster mode). */
  NODE_CAPACITY: z.coerce.number().int().min(1).optional(),
  /** A node (and its room claims) not heard from this long is dead; it heartbeats three times as often. */
  NODE_TTL_S: z.coerce.number().min(1).max(300).default(6),
  /** Cluster mode: after SIGTERM, how long open rooms may go on before the node closes them and exits. */
  DRAIN_TIMEOUT_S: z.coerce.number().min(0).default(3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  rtc: RtcOptions;
  workers: number;
  tls: { cert: string; key: string } | undefined;
  clientDist: string | undefined;
  idnModelDir: string | undefined;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  authSecret: string | undefined;
  publicUrl: string | undefined;
  /** Undefined: same-origin only (see app.ts). */
  allowedOrigins: string[] | undefined;
  limits: Limits;
  mediaTimeoutMs: number;
  metricsToken: string | undefined;
  /** Undefined: no TURN; browsers reach the media server directly. */
  turn: TurnConfig | undefined;
  /** Undefined: one process, no Redis (the default). */
  cluster: ClusterConfig | undefined;
}

export interface ClusterConfig {
  redisUrl: string;
  nodeId: string;
  capacity: number | null;
  ttlMs: number;
  drainTimeoutMs: number;
}

export interface Limits {
  connectionsPerIp: number;
  signalRatePerSecond: number;
  signalBurst: number;
  idleTimeoutMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = Env.parse(env);
  if (e.RTC_MIN_PORT > e.RTC_MAX_PORT) throw new Error('RTC_MIN_PORT is above RTC_MAX_PORT');
  if (e.RTC_PORT !== undefined && e.RTC_PORT + e.MEDIASOUP_WORKERS - 1 > 65535) throw new Error('RTC_PORT + MEDIASOUP_WORKERS - 1 is above 65535');
  if (!e.REDIS_URL && (e.NODE_ID || e.NODE_CAPACITY)) throw new Error('NODE_ID and NODE_CAPACITY are for cluster mode: set REDIS_URL too');
  if (Boolean(e.TLS_CERT) !== Boolean(e.TLS_KEY)) throw new Error('set both TLS_CERT and TLS_KEY, or neither');
  const turnUrls = e.TURN_URLS?.split(',').map((u) => u.trim()).filter(Boolean) ?? [];
  if ((turnUrls.length > 0) !== Boolean(e.TURN_SECRET)) throw new Error('set both TURN_URLS and TURN_SECRET, or neither');
  const badTurnUrl = turnUrls.find((u) => !/^turns?:[^\s]{1,500}$/.test(u));
  if (badTurnUrl) throw new Error(`TURN_URLS: ${JSON.stringify(badTurnUrl)} is not a turn: or turns: URL`);
  // Listening on all interfaces announces nothing useful; default to loopback
  // so a local call works out of the box. Set RTC_ANNOUNCED_ADDRESS for a LAN.
  const announced = e.RTC_ANNOUNCED_ADDRESS ?? (e.RTC_LISTEN_IP === '0.0.0.0' ? '127.0.0.1' : undefined);
  return {
    port: e.PORT,
    host: e.HOST,
    rtc: { listenIp: e.RTC_LISTEN_IP, announcedAddress: announced, port: e.RTC_PORT, minPort: e.RTC_MIN_PORT, maxPort: e.RTC_MAX_PORT },
    workers: e.MEDIASOUP_WORKERS,
    tls: e.TLS_CERT && e.TLS_KEY ? { cert: e.TLS_CERT, key: e.TLS_KEY } : undefined,
    clientDist: e.CLIENT_DIST,
    idnModelDir: e.IDN_MODEL_DIR,
    logLevel: e.LOG_LEVEL,
    authSecret: e.GUISE_AUTH_SECRET,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    allowedOrigins: e.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    limits: {
      connectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
      signalRatePerSecond: e.SIGNAL_RATE,
      signalBurst: e.SIGNAL_BURST,
      idleTimeoutMs: e.IDLE_TIMEOUT_S * 1000,
    },
    mediaTimeoutMs: e.MEDIA_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    cluster: e.REDIS_URL
      ? {
        redisUrl: e.REDIS_URL,
        nodeId: e.NODE_ID ?? `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'node'}-${process.pid}-${randomBytes(3).toString('hex')}`,
        capacity: e.NODE_CAPACITY ?? null,
        ttlMs: e.NODE_TTL_S * 1000,
        drainTimeoutMs: e.DRAIN_TIMEOUT_S * 1000,
      }
      : undefined,
    turn: e.TURN_SECRET && turnUrls.length > 0 ? { urls: turnUrls, secret: e.TURN_SECRET, ttlSeconds: e.TURN_TTL_S } : undefined,
  };
}
