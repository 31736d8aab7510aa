// Test doubles for CallSession: an in-memory signaling server and a media
// track, used with mediasoup-client's own FakeHandler (no browser needed).
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import type { NotificationName, Notifications, ProducerInfo, RequestData, RequestName, Responses } from '@guise/shared';
import { SignalingError, type ConnectionState, type Signaling, type StateCause, type StateListener } from '../src/call/signaling.ts';

export class FakeTrack {
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  stopped = false;
  private static next = 0;
  readonly id = `track-${FakeTrack.next++}`;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() { this.stopped = true; this.readyState = 'ended'; }
  addEventListener() {}
  removeEventListener() {}
  getSettings() { return {}; }
  asTrack() { return this as unknown as MediaStreamTrack; }
}

type Handler<N extends RequestName> = (data: RequestData<N>) => Responses[N] | Promise<Responses[N]>;

export class FakeSignaling implements Signaling {
  state: ConnectionState;
  closed = false;
  readonly requests: { name: RequestName; data: unknown }[] = [];
  private readonly listeners = new Map<string, Set<(data: never) => void>>();
  private readonly stateListeners = new Set<StateListener>();
  private nextId = 0;
  /** What `join` answers with: other peers and their producers. */
  room: { peers: { id: string; displayName: string }[]; producers: ProducerInfo[] } = { peers: [], producers: [] };
  readonly handlers: { [N in RequestName]?: Handler<N> } = {};

  constructor(initial: ConnectionState = 'connected') {
    this.state = initial;
  }

  request<N extends RequestName>(name: N, data: RequestData<N>): Promise<Responses[N]> {
    this.requests.push({ name, data });
    if (this.closed || this.state !== 'connected') {
      return Promise.reject(new SignalingError('disconnected', 'not connected'));
    }
    const custom = this.handlers[name] as Handler<N> | undefined;
    return Promise.resolve().then(() => (custom ?? (this.defaults[name] as unknown as Handler<N>))(data));
  }

  on<N extends NotificationName>(name: N, cb: (data: Notifications[N]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(cb as (data: never) => void);
    return () => { set.delete(cb as (data: never) => void); };
  }

  onState(cb: StateListener): () => void {
    this.stateListeners.add(cb);
    return () => { this.stateListeners.delete(cb); };
  }

  reconnect(): void { this.setState('reconnecting'); }
  close(): void { this.closed = true; this.state = 'disconnected'; }

  /** Server push. */
  push<N extends NotificationName>(name: N, data: Notifications[N]): void {
    for (const cb of this.listeners.get(name) ?? []) (cb as (d: Notifications[N]) => void)(data);
  }

  setState(state: ConnectionState, cause?: StateCause): void {
    this.state = state;
    for (const cb of [...this.stateListeners]) cb(state, cause);
  }

  sent<N extends RequestName>(name: N): RequestData<N>[] {
    return this.requests.filter((r) => r.name === name).map((r) => r.data as RequestData<N>);
  }

  private id(prefix: string) { return `${prefix}-${this.nextId++}`; }

  private readonly defaults: { [N in RequestName]: Handler<N> } = {
    join: () => ({
      peerId: this.id('me'),
      rtpCapabilities: testFakeParameters.generateRouterRtpCapabilities(),
      peers: this.room.peers,
      producers: this.room.producers,
    }),
    createTransport: () => {
      const t = testFakeParameters.generateTransportRemoteParameters();
      return { ...t, id: this.id('transport') };
    },
    connectTransport: () => ({}),
    produce: () => ({ producerId: this.id('producer') }),
    consume: ({ producerId }) => {
      const info = [...this.room.producers, ...this.extraProducers].find((p) => p.producerId === producerId);
      if (!info) throw new SignalingError('not_found', `no producer ${producerId}`);
      const params = testFakeParameters.generateConsumerRemoteParameters({
        id: this.id('consumer'),
        codecMimeType: info.kind === 'audio' ? 'audio/opus' : 'video/VP8',
      });
      return {
        consumerId: params.id,
        producerId,
        peerId: info.peerId,
        kind: info.kind,
        rtpParameters: params.rtpParameters,
        producerPaused: info.paused,
        appData: info.appData,
      };
    },
    resumeConsumer: () => ({}),
    pauseProducer: () => ({}),
    resumeProducer: () => ({}),
    closeProducer: () => ({}),
    leave: () => ({}),
  };

  /** Producers announced with newProducer after join. */
  readonly extraProducers: ProducerInfo[] = [];
  announce(info: ProducerInfo): void {
    this.extraProducers.push(info);
    this.push('newProducer', info);
  }
}

export function fakeDevice(): Promise<Device> {
  return Promise.resolve(new Device({ handlerFactory: FakeHandler.createFactory(testFakeParameters) }));
}

export function producer(peerId: string, kind: 'audio' | 'video', over: Partial<ProducerInfo> = {}): ProducerInfo {
  return {
    producerId: `${peerId}-${kind}`,
    peerId,
    kind,
    paused: false,
    appData: { source: kind === 'audio' ? 'mic' : 'camera', synthetic: false },
    ...over,
  };
}

/** Lets queued promise chains (requests, consume steps) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}
