// Signaling fuzz: many random and malformed messages over a real socket.io
// connection. Every one must get an error ack, the server must stay up, and a
// normal call must still work afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestNames } from '@guise/shared';
import type { App } from '../src/app.ts';
import { joinWithMedia, startTestApp, TestClient } from './helpers.ts';

const MESSAGES = 10_000;

/** A small deterministic PRNG so a failure can be replayed from its seed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const str = () => pick(['', ' ', 'a'.repeat(Math.floor(rnd() * 300)), '🙂', '\u0000', '../../etc', '<script>', 'room 1', String(rnd())]);
  const value = (depth: number): unknown => {
    const kind = Math.floor(rnd() * (depth > 2 ? 6 : 9));
    switch (kind) {
      case 0: return null;
      case 1: return rnd() < 0.5;
      case 2: return pick([0, -1, 1e308, NaN, Infinity, 2 ** 53, rnd() * 1e6]);
      case 3: return str();
      case 4: return undefined;
      case 5: return Buffer.from(str());
      case 6: return Array.from({ length: Math.floor(rnd() * 5) }, () => value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        const keys = ['room', 'displayName', 'direction', 'transportId', 'producerId', 'consumerId', 'kind', 'rtpParameters',
          'dtlsParameters', 'rtpCapabilities', 'appData', 'codecs', 'fingerprints', '__proto__', 'constructor', str()];
        // defineProperty makes "__proto__" an own key, as JSON.parse on the server sees it.
        for (let i = Math.floor(rnd() * 5); i > 0; i--) {
          Object.defineProperty(o, pick(keys), { value: value(depth + 1), enumerable: true, configurable: true, writable: true });
        }
        return o;
      }
    }
  };
  // Well-formed requests naming ids that don't exist: they pass the schemas and
  // reach the handlers, which must refuse them (not_found, or not_joined).
  const dtls = { fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] };
  const rtp = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000 }] };
  const appData = { source: 'mic', synthetic: false };
  const wellFormed = (): [string, unknown] => {
    const id = pick([str(), 'x', crypto.randomUUID()]) || 'id';
    return pick<[string, unknown]>([
      ['connectTransport', { transportId: id, dtlsParameters: dtls }],
      ['produce', { transportId: id, kind: pick(['audio', 'video']), rtpParameters: rtp, appData }],
      ['consume', { transportId: id, producerId: id, rtpCapabilities: { codecs: [] } }],
      ['resumeConsumer', { consumerId: id }],
      ['pauseProducer', { producerId: id }],
      ['resumeProducer', { producerId: id }],
      ['closeProducer', { producerId: id }],
      ['updateProducer', { producerId: id, appData }],
    ]);
  };
  // Mostly real request names (so payload validation is exercised), some junk names.
  const names = [...requestNames, ...requestNames, 'joinn', '', '__proto__', 'constructor', 'toString', 'x'.repeat(500)];
  return (): { name: string; args: unknown[] } => {
    if (rnd() < 0.2) {
      const [name, payload] = wellFormed();
      return { name, args: [payload] };
    }
    const name = pick(names);
    // `leave`, `join` and `createTransport` can be valid by chance; keep them malformed.
    const args = ['leave', 'join', 'createTransport'].includes(name)
      ? [pick([null, 42, 'x', [], { junk: 1 }, { direction: 'up' }])]
      : Array.from({ length: pick([0, 1, 1, 1, 2]) }, () => value(0));
    return { name, args };
  };
}

describe('signaling fuzz', () => {
  let app: App;
  // The rate limit would answer most of the fuzz itself; it has its own test (security.test.ts).
  beforeAll(async () => { app = await startTestApp(1, { SIGNAL_RATE: '1000000', SIGNAL_BURST: '1000000' }); });
  afterAll(() => app.close());

  it(`answers ${MESSAGES} malformed messages with error acks and keeps serving`, async () => {
    const fuzzers = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(app.url)));
    // Half the fuzzers sit in a room, so handlers behind the join check are reached too.
    await fuzzers[0]!.request('join', { room: 'fuzz', displayName: 'F0' });
    await fuzzers[1]!.request('join', { room: 'fuzz', displayName: 'F1' });
    const next = generator(0xc0ffee);
    const codes = new Map<string, number>();
    let answered = 0;
    const batch = 200;
    for (let sent = 0; sent < MESSAGES; sent += batch) {
      const acks = await Promise.all(Array.from({ length: batch }, (_, i) => {
        const { name, args } = next();
        return fuzzers[(sent + i) % fuzzers.length]!.raw(name, ...args).then((ack) => ({ name, args, ack }));
      }));
      for (const { name, args, ack } of acks) {
        if (ack.ok) throw new Error(`fuzz message was accepted: ${name} ${JSON.stringify(args)}`);
        expect(typeof ack.error.message).toBe('string');
        codes.set(ack.error.code, (codes.get(ack.error.code) ?? 0) + 1);
        answered++;
      }
      // Fire-and-forget junk too: no ack to send, but it must not hurt the server.
      fuzzers[0]!.socket.emit(next().name, next().args[0]);
    }
    expect(answered).toBe(MESSAGES);
    expect([...codes.keys()].sort()).toEqual(expect.arrayContaining(['bad_request', 'unknown_request', 'not_joined', 'not_found']));
    expect(codes.get('internal')).toBeUndefined();
    for (const f of fuzzers) expect(f.socket.connected).toBe(true);

    // The server is still healthy and a normal call still works.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const alice = await TestClient.connect(app.url);
    const bob = await TestClient.connect(app.url);
    const a = await joinWithMedia(alice, 'after-fuzz', 'Alice', 4242);
    const b = await joinWithMedia(bob, 'after-fuzz', 'Bob');
    const consumed = await bob.request('consume', { transportId: b.recv.id, producerId: a.producerId, rtpCapabilities: b.joined.rtpCapabilities });
    await bob.request('resumeConsumer', { consumerId: consumed.consumerId });
    expect(consumed.producerId).toBe(a.producerId);
    for (const c of [...fuzzers, alice, bob]) c.close();
  });
});
