// The signaling wrapper against a real socket.io server (ad-hoc handlers per
// test) and a real socket.io client: acks, timeouts, drops, kicks and restarts
// all happen over real connections on 127.0.0.1.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Notifications } from '@guise/shared';
import { connectSignaling, createSignaling, SignalingError, type ConnectionState, type Signaling } from '../src/call/signaling.ts';
import { until } from './until.ts';

interface TestServer {
  url: string;
  port: number;
  /** Server-side sockets, in connection order. */
  sockets: ServerSocket[];
  /** Why each server-side socket disconnected, in order. */
  disconnects: string[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: ClientSocket[] = [];
const wrappers: Signaling[] = [];

/** A real socket.io server on 127.0.0.1; `setup` adds the handlers for each connection. */
async function startServer(port = 0, setup: (socket: ServerSocket) => void = () => {}): Promise<TestServer> {
  const http: HttpServer = createServer();
  const ioServer = new Server(http, { serveClient: false });
  const sockets: ServerSocket[] = [];
  const disconnects: string[] = [];
  ioServer.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('disconnect', (reason) => disconnects.push(reason));
    setup(socket);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const server: TestServer = {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    sockets,
    disconnects,
    close() {
      closing ??= (async () => {
        // socket.io closes its connections cleanly; anything still open after
        // that (a stray keep-alive connection) is cut so close() can finish.
        const done = ioServer.close();
        const straggler = setTimeout(() => http.closeAllConnections(), 1000);
        await done;
        clearTimeout(straggler);
      })();
      return closing;
    },
  };
  servers.push(server);
  return server;
}

/** A port nothing listens on (until a test starts a server there). */
async function freePort(): Promise<number> {
  const probe = await startServer();
  await probe.close();
  return probe.port;
}

/** A real socket.io client; fast retries keep the reconnect tests short. */
function client(url: string, opts: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket = io(url, { forceNew: true, reconnectionDelay: 20, reconnectionDelayMax: 100, randomizationFactor: 0, ...opts });
  clients.push(socket);
  return socket;
}

function wrap(socket: ClientSocket, timeoutMs?: number): Signaling {
  const sig = createSignaling(socket, timeoutMs);
  wrappers.push(sig);
  return sig;
}

const connected = (sig: Signaling) => until(() => sig.state === 'connected', 'the signaling state "connected"');

const transportOptions = {
  id: 't1',
  iceParameters: { usernameFragment: 'u', password: 'p' },
  iceCandidates: [{ foundation: 'f', priority: 1, address: '127.0.0.1', ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' }],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
};

afterEach(async () => {
  vi.restoreAllMocks();
  for (const sig of wrappers.splice(0)) sig.close();
  for (const socket of clients.splice(0)) socket.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('signaling over a real socket.io connection', () => {
  it('resolves a typed request with the ack data (connectSignaling, default options)', async () => {
    const received: unknown[] = [];
    const server = await startServer(0, (socket) => {
      socket.on('createTransport', (data, ack) => {
        received.push(data);
        ack({ ok: true, data: transportOptions });
      });
    });
    const sig = connectSignaling(server.url);
    wrappers.push(sig);
    expect(sig.state).toBe('connecting');
    await connected(sig);

    await expect(sig.request('createTransport', { direction: 'send' })).resolves.toEqual(transportOptions);
    expect(received).toEqual([{ direction: 'send' }]);
  });

  it('rejects with the server error code and message, or a generic one for a malformed ack', async () => {
    const server = await startServer(0, (socket) => {
      socket.on('join', (_data, ack) => ack({ ok: false, error: { code: 'room_closed', message: 'the room has closed' } }));
      socket.on('leave', (_data, ack) => ack()); // an ack without a payload
    });
    const sig = wrap(client(server.url));
    await connected(sig);

    const refused = sig.request('join', { room: 'r', displayName: 'A' });
    await expect(refused).rejects.toBeInstanceOf(SignalingError);
    await expect(refused).rejects.toMatchObject({ name: 'SignalingError', code: 'room_closed', message: 'the room has closed' });
    await expect(sig.request('leave', {})).rejects.toMatchObject({ code: 'internal', message: 'leave failed' });
  });

  it('times out a request the server never answers, and ignores its late ack', async () => {
    const held: ((ack: unknown) => void)[] = [];
    const server = await startServer(0, (socket) => {
      socket.on('leave', (_data, ack) => { held.push(ack); }); // answered only when the test says so
      socket.on('join', (data, ack) => ack({ ok: true, data: { peerId: data.displayName, rtpCapabilities: {}, peers: [], producers: [] } }));
    });
    const sig = wrap(client(server.url), 300);
    await connected(sig);

    const started = Date.now();
    await expect(sig.request('leave', {})).rejects.toMatchObject({
      code: 'timeout', message: 'the server did not answer leave within 0.3 s',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(held).toHaveLength(1); // the request did reach the server

    // The late ack arrives before the next answer on the same connection; it
    // must not settle anything, and the next request gets its own answer.
    held[0]!({ ok: true, data: {} });
    await expect(sig.request('join', { room: 'r', displayName: 'Late' })).resolves.toEqual({
      peerId: 'Late', rtpCapabilities: {}, peers: [], producers: [],
    });
    expect(sig.state).toBe('connected');
  });

  it('fails requests at once while disconnected, and in-flight ones when the connection drops or is kicked', async () => {
    const seen: string[] = [];
    const server = await startServer(0, (socket) => {
      socket.onAny((event: string) => seen.push(event));
      socket.on('join', (_data, ack) => ack({ ok: true, data: { peerId: 'me', rtpCapabilities: {}, peers: [], producers: [] } }));
      socket.on('leave', () => {}); // never answered
      socket.on('createTransport', () => socket.conn.close()); // the connection drops: the client retries
      socket.on('connectTransport', () => socket.disconnect(true)); // a server kick: no retry
    });
    const socket = client(server.url, { autoConnect: false });
    const sig = wrap(socket, 5000);
    expect(sig.state).toBe('connecting');
    await expect(sig.request('leave', {})).rejects.toMatchObject({ code: 'disconnected', message: 'not connected to the server (leave)' });

    socket.connect();
    await connected(sig);
    await sig.request('join', { room: 'r', displayName: 'A' });
    // The early request was not buffered and sent once connected.
    expect(seen).toEqual(['join']);

    const inFlight = sig.request('leave', {});
    const dropping = sig.request('createTransport', { direction: 'recv' });
    await expect(inFlight).rejects.toMatchObject({ code: 'disconnected', message: 'the connection to the server dropped (transport close)' });
    await expect(dropping).rejects.toMatchObject({ code: 'disconnected' });
    expect(socket.active).toBe(true); // socket.io retries on its own
    await connected(sig);
    expect(server.sockets).toHaveLength(2);

    const kicked = sig.request('connectTransport', {
      transportId: 't1', dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    });
    await expect(kicked).rejects.toMatchObject({ code: 'disconnected', message: 'the connection to the server dropped (io server disconnect)' });
    expect(sig.state).toBe('disconnected');
    await expect(sig.request('join', { room: 'r', displayName: 'A' })).rejects.toMatchObject({ code: 'disconnected' });
    expect(seen).toEqual(['join', 'leave', 'createTransport', 'connectTransport']);
  });

  it('folds a real connection life into connecting / connected / reconnecting / disconnected', async () => {
    const port = await freePort();
    const socket = client(`http://127.0.0.1:${port}`);
    const sig = wrap(socket);
    const seen: { state: ConnectionState; cause?: string; message?: string }[] = [];
    sig.onState((state, cause) => seen.push({ state, ...(cause ? { cause: cause.type, message: cause.message } : {}) }));
    expect(sig.state).toBe('connecting');

    // Nothing listens yet: connect errors while connecting for the first time.
    await until(() => seen.some((s) => s.cause === 'connect_error'), 'a connect_error');
    let server = await startServer(port);
    await connected(sig);

    // The server goes away: the socket retries, now "reconnecting".
    await server.close();
    await until(() => seen.some((s) => s.state === 'reconnecting' && s.cause === 'connect_error'), 'a connect_error while reconnecting');
    server = await startServer(port);
    await connected(sig);
    expect(server.sockets).toHaveLength(1);

    // A server kick: socket.io won't retry, so the state is "disconnected"...
    server.sockets[0]!.disconnect(true);
    await until(() => sig.state === 'disconnected', 'the signaling state "disconnected"');
    expect(socket.active).toBe(false);

    // ...until reconnect() is asked for.
    sig.reconnect();
    expect(sig.state).toBe('reconnecting');
    await connected(sig);
    expect(server.sockets).toHaveLength(2);

    // connect_error repeats while retrying; fold the repeats to compare.
    const folded = seen.filter((s, i) => i === 0 || s.state !== seen[i - 1]!.state || s.cause !== seen[i - 1]!.cause);
    expect(folded.map((s) => [s.state, s.cause])).toEqual([
      ['connecting', 'connect_error'],
      ['connected', undefined],
      ['reconnecting', 'disconnect'],
      ['reconnecting', 'connect_error'],
      ['connected', undefined],
      ['disconnected', 'disconnect'],
      ['reconnecting', undefined],
      ['connected', undefined],
    ]);
    expect(folded.filter((s) => s.cause === 'disconnect').map((s) => s.message)).toEqual(['transport close', 'io server disconnect']);
    expect(folded.find((s) => s.cause === 'connect_error')!.message).toBeTruthy();
  });

  it('delivers notifications until unsubscribed, and nothing once closed', async () => {
    let next = 0;
    const server = await startServer(0, (socket) => {
      socket.emit('peerLeft', { peerId: `gone-${server.sockets.length}` }); // on every connection
      socket.on('leave', (_data, ack) => {
        // Pushed before the ack on the same connection, so it arrives first.
        socket.emit('peerJoined', { id: `p${next}`, displayName: `P${next}` });
        next++;
        ack({ ok: true, data: {} });
      });
    });
    const socket = client(server.url);
    const arrived: string[] = [];
    socket.on('peerJoined', (p: { id: string }) => arrived.push(p.id));
    socket.on('peerLeft', (p: { peerId: string }) => arrived.push(`left ${p.peerId}`));
    const sig = wrap(socket);
    await connected(sig);

    const got: string[] = [];
    const off = sig.on('peerJoined', (p) => got.push(p.id));
    await sig.request('leave', {});
    expect(got).toEqual(['p0']);
    off();
    await sig.request('leave', {});
    expect(arrived).toContain('p1'); // it did arrive, but nobody listens any more
    expect(got).toEqual(['p0']);

    sig.on('peerLeft', (p) => got.push(`left ${p.peerId}`));
    const states: ConnectionState[] = [];
    sig.onState((s) => states.push(s));
    sig.close();
    expect(sig.state).toBe('disconnected');
    expect(socket.active).toBe(false);
    for (const event of ['connect', 'connect_error', 'disconnect']) expect(socket.listeners(event)).toHaveLength(0);
    await until(() => server.disconnects.length === 1, 'the server to see the client leave');
    expect(server.disconnects).toEqual(['client namespace disconnect']);

    // Someone reconnects the underlying socket: the closed wrapper stays silent
    // and still refuses requests.
    socket.connect();
    await until(() => arrived.includes('left gone-2'), 'the push on the second connection');
    expect(socket.connected).toBe(true);
    expect(got).toEqual(['p0']);
    expect(states).toEqual([]);
    await expect(sig.request('leave', {})).rejects.toMatchObject({ code: 'disconnected' });
    expect(next).toBe(2);
  });

  it('rejects an answer that does not match the protocol, naming the request and the field, and goes on', async () => {
    let answers = 0;
    const server = await startServer(0, (socket) => {
      socket.on('createTransport', (_data, ack) => {
        answers++;
        ack(answers === 1
          ? { ok: true, data: { ...transportOptions, dtlsParameters: { role: 'auto', fingerprints: [] } } }
          : { ok: true, data: transportOptions });
      });
      socket.on('consume', (_data, ack) => ack({ ok: true, data: { consumerId: 'c1' } }));
      socket.on('leave', (_data, ack) => ack({ ok: false, error: { code: 'teapot', message: 'short and stout' } }));
    });
    const sig = wrap(client(server.url));
    await connected(sig);

    const malformed = sig.request('createTransport', { direction: 'recv' });
    await expect(malformed).rejects.toBeInstanceOf(SignalingError);
    await expect(malformed).rejects.toMatchObject({
      code: 'bad_response',
      message: expect.stringMatching(/^the server's answer to createTransport is malformed: dtlsParameters\.fingerprints: /),
    });
    await expect(sig.request('consume', { transportId: 't1', producerId: 'p1', rtpCapabilities: { codecs: [] } }))
      .rejects.toMatchObject({ code: 'bad_response', message: expect.stringContaining('answer to consume is malformed: producerId') });
    // A refusal whose code this client does not know is still a refusal.
    await expect(sig.request('leave', {})).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('leave failed') });

    // The connection is fine: the next valid answer goes through.
    expect(sig.state).toBe('connected');
    await expect(sig.request('createTransport', { direction: 'recv' })).resolves.toEqual(transportOptions);
  });

  it('drops a notification that does not match the protocol with a warning naming it, and delivers the next one', async () => {
    const producer: Notifications['newProducer'] = {
      producerId: 'p1', peerId: 'ada', kind: 'video', paused: false, appData: { source: 'camera', synthetic: true, identityLabel: 'Astronaut' },
    };
    const server = await startServer(0, (socket) => {
      socket.on('leave', (_data, ack) => {
        // Pushed before the ack on the same connection, so they arrive first.
        socket.emit('newProducer', { ...producer, kind: 'data' });
        socket.emit('newProducer', { ...producer, appData: { ...producer.appData, admin: true } });
        socket.emit('roomClosed', { reason: '' });
        socket.emit('newProducer', producer);
        ack({ ok: true, data: {} });
      });
    });
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((message: string) => { warnings.push(message); });
    const sig = wrap(client(server.url));
    await connected(sig);
    const got: unknown[] = [];
    sig.on('newProducer', (p) => got.push(p));
    sig.on('roomClosed', (r) => got.push(r));

    await sig.request('leave', {});
    expect(got).toEqual([producer]);
    expect(warnings).toEqual([
      expect.stringMatching(/^signaling: dropped a malformed newProducer notification: kind: /),
      expect.stringMatching(/^signaling: dropped a malformed newProducer notification: appData: .*admin/i),
      expect.stringMatching(/^signaling: dropped a malformed roomClosed notification: reason: /),
    ]);
    expect(sig.state).toBe('connected');
  });
});
