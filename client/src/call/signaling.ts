// A typed wrapper over the socket.io connection to the Guise server: requests
// are promises (answered by ack), notifications are typed callbacks, and the
// socket's many events are folded into four connection states. Everything the
// server sends is checked against the shared schemas here, before anyone sees it.
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import {
  notifications, RequestFailure, responses,
  type ErrorCode, type NotificationName, type Notifications, type RequestData, type RequestName, type Responses,
} from '@guise/shared';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/**
 * Server error codes, plus the failures seen only here: no answer in time, no
 * connection, and an answer that does not match the protocol.
 */
export type SignalingErrorCode = ErrorCode | 'timeout' | 'disconnected' | 'bad_response';

export class SignalingError extends Error {
  override readonly name = 'SignalingError';
  /** With `moved`: the node (an http(s) origin) that holds the room. */
  constructor(readonly code: SignalingErrorCode, message: string, readonly location?: string) {
    super(message);
  }
}

/** Why the state changed, when it was a failure. */
export interface StateCause { type: 'connect_error' | 'disconnect'; message: string }
export type StateListener = (state: ConnectionState, cause?: StateCause) => void;

export interface Signaling {
  readonly state: ConnectionState;
  request<N extends RequestName>(name: N, data: RequestData<N>): Promise<Responses[N]>;
  /** Only notifications that match the protocol reach `cb`; others are dropped with a warning. */
  on<N extends NotificationName>(name: N, cb: (data: Notifications[N]) => void): () => void;
  onState(cb: StateListener): () => void;
  /** Reconnects a socket that gave up (state 'disconnected'). */
  reconnect(): void;
  close(): void;
}

export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Connects to the server that served the page, or to `url` (another node of
 * a cluster). WebSocket first: a cluster node accepts nothing else, so no
 * request of a session can land on another node behind a load balancer. To
 * the page's own server, long-polling is the fallback for proxies that block
 * WebSockets (a single server accepts it); retries go on forever.
 */
export function connectSignaling(url?: string): Signaling {
  return createSignaling(url
    ? io(url, { transports: ['websocket'], forceNew: true })
    : io({ transports: ['websocket', 'polling'], tryAllTransports: true }));
}

export function createSignaling(socket: Socket, timeoutMs = REQUEST_TIMEOUT_MS): Signaling {
  let state: ConnectionState = socket.connected ? 'connected' : 'connecting';
  let everConnected = socket.connected;
  let closed = false;
  /** Why the socket last disconnected; requests in flight then fail with it. */
  let dropReason = '';
  const stateListeners = new Set<StateListener>();

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
    dropReason = reason;
    // socket.active is false after a server-side or deliberate disconnect:
    // socket.io will not retry then.
    setState(socket.active ? whileRetrying() : 'disconnected', { type: 'disconnect', message: reason });
  };
  socket.on('connect', onConnect);
  socket.on('connect_error', onConnectError);
  socket.on('disconnect', onDisconnect);

  /**
   * socket.io rejects an acked emit when its timeout passes (and drops the
   * late ack), or when the socket disconnects: socket.io runs the 'disconnect'
   * listeners first, so `dropReason` is already current here.
   */
  const failure = (name: RequestName): SignalingError => {
    if (closed) return new SignalingError('disconnected', 'the connection was closed');
    if (!socket.connected) return new SignalingError('disconnected', `the connection to the server dropped (${dropReason})`);
    return new SignalingError('timeout', `the server did not answer ${name} within ${timeoutMs / 1000} s`);
  };

  return {
    get state() { return state; },

    async request(name, data) {
      // socket.io would buffer the emit and send it after a reconnect, to a
      // server that no longer knows this client; fail now instead.
      if (closed || !socket.connected) throw new SignalingError('disconnected', `not connected to the server (${name})`);
      let ack: unknown;
      try {
        ack = await socket.timeout(timeoutMs).emitWithAck(name, data);
      } catch {
        throw failure(name);
      }
      return readAck(name, ack);
    },

    on(name, cb) {
      const handler = (data: unknown) => {
        if (closed) return;
        const parsed = readNotification(name, data);
        if (parsed) cb(parsed);
      };
      // Plain string: the socket's events are untyped until read here.
      const event: string = name;
      socket.on(event, handler);
      return () => { socket.off(event, handler); };
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
    },
  };
}

// The shared tables, typed per name so that a generic name picks its own schema.
const answerSchemas: { [N in RequestName]: z.ZodType<Responses[N]> } = responses;
const notificationSchemas: { [N in NotificationName]: z.ZodType<Notifications[N]> } = notifications;

/** The data of a successful ack, or the SignalingError that the ack (or its malformed shape) stands for. */
function readAck<N extends RequestName>(name: N, ack: unknown): Responses[N] {
  if (!isRecord(ack) || (ack.ok !== true && ack.ok !== false)) throw new SignalingError('internal', `${name} failed`);
  if (ack.ok === false) {
    const error = RequestFailure.safeParse(ack.error);
    throw error.success
      ? new SignalingError(error.data.code, error.data.message, error.data.location)
      : new SignalingError('internal', `${name} failed (${describe(error.error)})`);
  }
  const data = answerSchemas[name].safeParse(ack.data);
  if (!data.success) {
    throw new SignalingError('bad_response', `the server's answer to ${name} is malformed: ${describe(data.error)}`);
  }
  return data.data;
}

/** The notification's data, or undefined (and a warning) when it does not match the protocol. */
function readNotification<N extends NotificationName>(name: N, data: unknown): Notifications[N] | undefined {
  const parsed = notificationSchemas[name].safeParse(data);
  if (parsed.success) return parsed.data;
  console.warn(`signaling: dropped a malformed ${name} notification: ${describe(parsed.error)}`);
  return undefined;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
