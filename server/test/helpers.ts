// Real parts for server tests: a real mediasoup worker, a real socket.io server.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, Notifications, NotificationName, RequestName, Responses } from '@guise/shared';
import { startApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';

export const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

/** A server in this process; `env` adds to or overrides the test defaults (limits, GUISE_AUTH_SECRET...). */
export function startTestApp(workers = 1, env: Record<string, string> = {}): Promise<App> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: String(workers), ...env });
  return startApp(config, log);
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The server as `pnpm start` runs it, in its own process: what a crash there does to a call is what users see. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  child.stderr!.on('data', (chunk: Buffer) => { printed += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      printed += `${line}\n`;
      if (line.includes('"guise server listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error(`server exited with ${child.exitCode} before listening:\n${printed}`)));
  });
  return {
    url,
    child,
    output: () => printed,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Opus RTP parameters as a browser would send them, enough for mediasoup to accept a producer. */
export function opusRtpParameters(ssrc: number) {
  return {
    mid: '0',
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `test-${ssrc}`, reducedSize: true },
  };
}

type Received = { name: NotificationName; data: unknown };

export class TestClient {
  readonly received: Received[] = [];
  /** Calls to next() still waiting; each is offered every notification as it arrives. */
  private readonly waiting = new Set<(m: Received) => void>();
  private constructor(readonly socket: Socket) {
    socket.onAny((name: NotificationName, data: unknown) => {
      const m = { name, data };
      this.received.push(m);
      for (const offer of this.waiting) offer(m);
    });
  }

  static async connect(url: string, extraHeaders?: Record<string, string>): Promise<TestClient> {
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new TestClient(socket);
  }

  raw(name: string, ...args: unknown[]): Promise<Ack<unknown>> {
    return this.socket.timeout(10_000).emitWithAck(name, ...args) as Promise<Ack<unknown>>;
  }

  async request<N extends RequestName>(name: N, data: unknown): Promise<Responses[N]> {
    const ack = await this.raw(name, data);
    if (!ack.ok) throw new Error(`${name} failed: ${ack.error.code}: ${ack.error.message}`);
    return ack.data as Responses[N];
  }

  /** The first notification `name` that matches, received already or within 10 s. */
  next<N extends NotificationName>(name: N, match: (d: Notifications[N]) => boolean = () => true): Promise<Notifications[N]> {
    const wanted = (m: Received) => m.name === name && match(m.data as Notifications[N]);
    const hit = this.received.find(wanted);
    if (hit) return Promise.resolve(hit.data as Notifications[N]);
    return new Promise((resolve, reject) => {
      const offer = (m: Received) => {
        if (!wanted(m)) return;
        this.waiting.delete(offer);
        clearTimeout(timer);
        resolve(m.data as Notifications[N]);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(offer);
        reject(new Error(`no ${name} notification within 10 s`));
      }, 10_000);
      this.waiting.add(offer);
    });
  }

  close(): void { this.socket.close(); }
}

/** Joins, opens send and recv transports, and optionally produces audio. */
export async function joinWithMedia(client: TestClient, room: string, name: string, ssrc?: number, token?: string) {
  const joined = await client.request('join', { room, displayName: name, ...(token ? { token } : {}) });
  const send = await client.request('createTransport', { direction: 'send' });
  const recv = await client.request('createTransport', { direction: 'recv' });
  const producerId = ssrc === undefined ? undefined : (await client.request('produce', {
    transportId: send.id, kind: 'audio', rtpParameters: opusRtpParameters(ssrc), appData: { source: 'mic', synthetic: false },
  })).producerId;
  return { joined, send, recv, producerId };
}

export interface RedisProcess { url: string; port: number; child: ChildProcess; stop(): Promise<void> }

/** Debian's redis-server on a free loopback port, no persistence (installed by ./guise setup). */
export async function startRedis(fixedPort?: number): Promise<RedisProcess> {
  const port = fixedPort ?? await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
  const child = spawn(process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes',
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
    port,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
