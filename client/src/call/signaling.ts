// A typed wrapper over the socket.io connection to the Guise server: requests
// are promises (answered by ack), notifications are typed callbacks, and the
// socket's many events are folded into four connection states.
import { io } from 'socket.io-client';
import type { Ack, ErrorCode, NotificationName, Notifications, RequestData, RequestName, Responses } from '@guise/shared';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Server error codes, plus the two failures that never reach the server. */
export type SignalingErrorCode = ErrorCode | 'timeout' | 'disconnected';

export class SignalingError extends Error {
  override readonly name = 'SignalingError';
  constructor(readonly code: SignalingErrorCode, message: string) {
    super(message);
  }
}

/** The slice of a socket.io client socket this module uses (a fake one in tests). */
export interface SocketLike {
  readonly connected: boolean;
  /** False once the socket gave up or was closed: it will not reconnect by itself. */
  readonly active: boolean;
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn?: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

/** Why the state changed, when it was a failure. */
export interface StateCause { type: 'connect_error' | 'disconnect'; message: string }
export type StateListener = (state: ConnectionState, cause?: StateCause) => void;

export interface Signaling {
  readonly state: ConnectionState;
  request<N extends RequestName>(name: N, data: RequestData<N>): Promise<Responses[N]>;
  on<N extends NotificationName>(name: N, cb: (data: Notifications[N]) => void): () => void;
  onState(cb: StateListener): () => void;
  /** Reconnects a socket that gave up (state 'disconnected'). */
  reconnect(): void;
  close(): void;
}

export const REQUEST_TIMEOUT_MS = 10_000;

/** Connects to the server that served the page (or `url`). */
export function connectSignaling(url?: string): Signaling {
  // socket.io's defaults (long-polling, then upgrade; retry forever) work
  // through proxies that block websockets.
  const socket = url ? io(url) : io();
  return createSignaling(socket as unknown as SocketLike);
}

export function createSignaling(socket: SocketLike, timeoutMs = REQUEST_TIMEOUT_MS): Signaling {
  let state: ConnectionState = socket.connected ? 'connected' : 'connecting';
  let everConnected = socket.connected;
  let closed = false;
  const stateListeners = new Set<StateListener>();
  // Acks never arrive for requests in flight when the socket drops; fail them.
  const pending = new Set<(err: SignalingError) => void>();
  const failPending = (why: string) => {
    for (const fail of [...pending]) fail(new SignalingError('disconnected', why));
  };

  const setState = (next: ConnectionState, cause?: StateCause) => {
    // connect_error repeats while retrying; listeners still hear each one so
    // they can show the latest error, but a closed wrapper stays silent.
    if (closed) return;
    state = next;
    for (const cb of [...stateListeners]) cb(next, cause);
  };
  const whileRetrying = (): ConnectionState => (everConnected ? 'reconnecting' : 'connecting');

  const onConnect = () => {
    everConnected = true;
    // The start of "time to join" in the call benchmark (e2e/bench).
    globalThis.performance?.mark?.('guise:signaling-connected');
    setState('connected');
  };
  const onConnectError = (err: Error) =>
    setState(socket.active ? whileRetrying() : 'disconnected', { type: 'connect_error', message: err.message });
  const onDisconnect = (reason: string) => {
    // socket.active is false after a server-side or deliberate disconnect:
    // socket.io will not retry then.
    setState(socket.active ? whileRetrying() : 'disconnected', { type: 'disconnect', message: reason });
    failPending(`the connection to the server dropped (${reason})`);
  };
  socket.on('connect', onConnect);
  socket.on('connect_error', onConnectError);
  socket.on('disconnect', onDisconnect);

  return {
    get state() { return state; },

    request(name, data) {
      return new Promise((resolve, reject) => {
        // socket.io would buffer the emit and send it after a reconnect, to a
        // server that no longer knows this client; fail now instead.
        if (closed || !socket.connected) {
          reject(new SignalingError('disconnected', `not connected to the server (${name})`));
          return;
        }
        const fail = (err: SignalingError) => {
          clearTimeout(timer);
          pending.delete(fail);
          reject(err);
        };
        const timer = setTimeout(() => {
          fail(new SignalingError('timeout', `the server did not answer ${name} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        pending.add(fail);
        socket.emit(name, data, (ack: Ack<Responses[typeof name]>) => {
          if (!pending.has(fail)) return; // timed out or dropped already
          clearTimeout(timer);
          pending.delete(fail);
          if (ack?.ok) resolve(ack.data);
          else reject(new SignalingError(ack?.error?.code ?? 'internal', ack?.error?.message ?? `${name} failed`));
        });
      });
    },

    on(name, cb) {
      const handler = (data: Notifications[typeof name]) => { if (!closed) cb(data); };
      socket.on(name, handler);
      return () => { socket.off(name, handler); };
    },

    onState(cb) {
      stateListeners.add(cb);
      return () => { stateListeners.delete(cb); };
    },

    reconnect() {
      if (!closed && !socket.active) {
        setState(whileRetrying());
        socket.connect();
      }
    },

    close() {
      if (closed) return;
      closed = true;
      state = 'disconnected';
      socket.disconnect();
      stateListeners.clear();
      socket.off('connect', onConnect);
      socket.off('connect_error', onConnectError);
      socket.off('disconnect', onDisconnect);
      failPending('the connection was closed');
    },
  };
}
