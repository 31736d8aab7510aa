import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSignaling, SignalingError, type SocketLike } from '../src/call/signaling.ts';

/** Just enough of a socket.io client socket, driven by the test. */
class FakeSocket implements SocketLike {
  connected = false;
  active = true;
  readonly emitted: { event: string; args: unknown[] }[] = [];
  private readonly handlers = new Map<string, Set<(...args: any[]) => void>>();

  on(event: string, fn: (...args: any[]) => void) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(fn);
  }
  off(event: string, fn?: (...args: any[]) => void) {
    if (fn) this.handlers.get(event)?.delete(fn);
    else this.handlers.delete(event);
  }
  emit(event: string, ...args: unknown[]) { this.emitted.push({ event, args }); }
  connect() { this.active = true; }
  disconnect() { this.active = false; this.fire('disconnect', 'io client disconnect'); }

  fire(event: string, ...args: unknown[]) {
    if (event === 'connect') this.connected = true;
    if (event === 'disconnect') this.connected = false;
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }
  /** Answers the latest request with `ack`. */
  ack(ack: unknown) {
    const last = this.emitted.at(-1)!;
    (last.args.at(-1) as (a: unknown) => void)(ack);
  }
  listenerCount(event: string) { return this.handlers.get(event)?.size ?? 0; }
}

function connected() {
  const socket = new FakeSocket();
  const sig = createSignaling(socket, 1000);
  socket.fire('connect');
  return { socket, sig };
}

describe('signaling', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('resolves a request with the ack data', async () => {
    const { socket, sig } = connected();
    const answer = sig.request('createTransport', { direction: 'send' });
    expect(socket.emitted[0]!.event).toBe('createTransport');
    expect(socket.emitted[0]!.args[0]).toEqual({ direction: 'send' });
    socket.ack({ ok: true, data: { id: 't1' } });
    await expect(answer).resolves.toEqual({ id: 't1' });
  });

  it('rejects with the server error code and message', async () => {
    const { socket, sig } = connected();
    const answer = sig.request('join', { room: 'r', displayName: 'A' });
    socket.ack({ ok: false, error: { code: 'room_closed', message: 'the room has closed' } });
    await expect(answer).rejects.toMatchObject({ name: 'SignalingError', code: 'room_closed', message: 'the room has closed' });
  });

  it('times out a request the server never answers', async () => {
    vi.useFakeTimers();
    const { socket, sig } = connected();
    const answer = sig.request('leave', {});
    vi.advanceTimersByTime(1000);
    await expect(answer).rejects.toMatchObject({ code: 'timeout' });
    expect(() => socket.ack({ ok: true, data: {} })).not.toThrow(); // a late ack is ignored
  });

  it('fails requests at once while disconnected, and in-flight ones when the socket drops', async () => {
    const socket = new FakeSocket();
    const sig = createSignaling(socket);
    await expect(sig.request('leave', {})).rejects.toMatchObject({ code: 'disconnected' });
    expect(socket.emitted).toHaveLength(0); // not buffered for a later connection

    socket.fire('connect');
    const inFlight = sig.request('leave', {});
    socket.fire('disconnect', 'transport close');
    await expect(inFlight).rejects.toBeInstanceOf(SignalingError);
  });

  it('folds socket events into connection states', () => {
    const socket = new FakeSocket();
    const sig = createSignaling(socket);
    const seen: [string, string | undefined][] = [];
    sig.onState((state, cause) => seen.push([state, cause?.type]));
    expect(sig.state).toBe('connecting');

    socket.fire('connect_error', new Error('xhr poll error'));
    socket.fire('connect');
    socket.fire('disconnect', 'transport close'); // socket.io retries: active stays true
    socket.fire('connect_error', new Error('xhr poll error'));
    socket.fire('connect');
    socket.active = false;
    socket.fire('disconnect', 'io server disconnect'); // no retry after a server kick
    expect(seen).toEqual([
      ['connecting', 'connect_error'],
      ['connected', undefined],
      ['reconnecting', 'disconnect'],
      ['reconnecting', 'connect_error'],
      ['connected', undefined],
      ['disconnected', 'disconnect'],
    ]);

    sig.reconnect();
    expect(sig.state).toBe('reconnecting');
    expect(socket.active).toBe(true);
  });

  it('delivers notifications until unsubscribed or closed', () => {
    const { socket, sig } = connected();
    const got: string[] = [];
    const off = sig.on('peerJoined', (p) => got.push(p.id));
    socket.fire('peerJoined', { id: 'a', displayName: 'A' });
    off();
    socket.fire('peerJoined', { id: 'b', displayName: 'B' });
    sig.on('peerLeft', (p) => got.push(`left ${p.peerId}`));
    sig.close();
    socket.fire('peerLeft', { peerId: 'a' });
    expect(got).toEqual(['a']);
    expect(sig.state).toBe('disconnected');
    expect(socket.active).toBe(false);
    expect(socket.listenerCount('connect')).toBe(0);
  });
});
