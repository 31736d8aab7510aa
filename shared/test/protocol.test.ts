import { describe, expect, it } from 'vitest';
import { ProducerAppData, isRequestName, requestNames, requests } from '../src/index.ts';

const dtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] };
const rtp = { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }], encodings: [{ ssrc: 1 }] };
const appData = { source: 'camera', synthetic: false };

describe('request schemas', () => {
  const valid: Record<string, unknown> = {
    join: { room: 'team-standup_2', displayName: '  Ada  ' },
    createTransport: { direction: 'send' },
    connectTransport: { transportId: 't1', dtlsParameters: dtls },
    produce: { transportId: 't1', kind: 'video', rtpParameters: rtp, appData: { ...appData, synthetic: true, identityLabel: 'Astronaut' } },
    consume: { transportId: 't2', producerId: 'p1', rtpCapabilities: { codecs: [] } },
    resumeConsumer: { consumerId: 'c1' },
    pauseProducer: { producerId: 'p1' },
    resumeProducer: { producerId: 'p1' },
    closeProducer: { producerId: 'p1' },
    updateProducer: { producerId: 'p1', appData: { source: 'camera', synthetic: true, identityLabel: 'Astronaut' } },
    leave: {},
  };

  it('covers every request', () => {
    expect(Object.keys(valid).sort()).toEqual([...requestNames].sort());
  });

  it.each(Object.entries(valid))('accepts a valid %s', (name, data) => {
    expect(isRequestName(name)).toBe(true);
    expect(requests[name as keyof typeof requests].safeParse(data).success).toBe(true);
  });

  it('trims display names', () => {
    expect(requests.join.parse({ room: 'a', displayName: '  Ada ' }).displayName).toBe('Ada');
  });

  const invalid: [string, unknown, RegExp][] = [
    ['join', { room: 'has space', displayName: 'x' }, /room/],
    ['join', { room: '', displayName: 'x' }, /room/],
    ['join', { room: 'a'.repeat(65), displayName: 'x' }, /room/],
    ['join', { room: 'ok', displayName: '   ' }, /name is empty/],
    ['join', { room: 'ok', displayName: 'x'.repeat(41) }, /longer than 40/],
    ['join', { room: 'ok', displayName: 'x', extra: 1 }, /unrecognized/i],
    ['join', null, /expected object/i],
    ['join', 'room', /expected object/i],
    ['createTransport', { direction: 'sideways' }, /send|recv|option/i],
    ['connectTransport', { transportId: 't', dtlsParameters: { fingerprints: [] } }, /too small|>=1/i],
    ['produce', { transportId: 't', kind: 'video', rtpParameters: rtp, appData: { source: 'camera' } }, /synthetic/],
    ['produce', { transportId: 't', kind: 'video', rtpParameters: rtp, appData: { ...appData, admin: true } }, /unrecognized/i],
    ['produce', { transportId: 't', kind: 'data', rtpParameters: rtp, appData }, /audio|video|option/i],
    ['produce', { transportId: 't', kind: 'audio', rtpParameters: { codecs: [] }, appData }, /too small|>=1/i],
    ['consume', { transportId: 't', producerId: '', rtpCapabilities: { codecs: [] } }, /too small|>=1/i],
    ['leave', { now: true }, /unrecognized/i],
  ];

  it.each(invalid)('rejects a bad %s: %j', (name, data, message) => {
    const r = requests[name as keyof typeof requests].safeParse(data);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toMatch(message);
  });

  it('does not treat prototype keys as request names', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 42, null]) {
      expect(isRequestName(name)).toBe(false);
    }
  });

  it('requires synthetic to be a boolean in producer appData', () => {
    expect(ProducerAppData.safeParse({ source: 'mic', synthetic: 'yes' }).success).toBe(false);
    expect(ProducerAppData.safeParse({ source: 'mic', synthetic: false }).success).toBe(true);
  });
});
