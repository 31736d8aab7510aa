// Real parts for server tests: a real mediasoup worker, a real socket.io server.
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, Notifications, NotificationName, RequestName, Responses } from '@guise/shared';
import { startApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';

export const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

export function startTestApp(workers = 1): Promise<App> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIASOUP_WORKERS: String(workers) });
  return startApp(config, log);
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

export class TestClient {
  readonly received: { name: NotificationName; data: unknown }[] = [];
  private constructor(readonly socket: Socket) {
    socket.onAny((name: NotificationName, data: unknown) => this.received.push({ name, data }));
  }

  static async connect(url: string): Promise<TestClient> {
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
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

  async next<N extends NotificationName>(name: N, match: (d: Notifications[N]) => boolean = () => true): Promise<Notifications[N]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const hit = this.received.find((m) => m.name === name && match(m.data as Notifications[N]));
      if (hit) return hit.data as Notifications[N];
      if (Date.now() > deadline) throw new Error(`no ${name} notification within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void { this.socket.close(); }
}

/** Joins, opens send and recv transports, and optionally produces audio. */
export async function joinWithMedia(client: TestClient, room: string, name: string, ssrc?: number) {
  const joined = await client.request('join', { room, displayName: name });
  const send = await client.request('createTransport', { direction: 'send' });
  const recv = await client.request('createTransport', { direction: 'recv' });
  const producerId = ssrc === undefined ? undefined : (await client.request('produce', {
    transportId: send.id, kind: 'audio', rtpParameters: opusRtpParameters(ssrc), appData: { source: 'mic', synthetic: false },
  })).producerId;
  return { joined, send, recv, producerId };
}
