import { describe, expect, it } from 'vitest';
import {
  MAX_NAME_LENGTH, MAX_ROOM_LENGTH, ProducerAppData, RoomId, isRequestName, notInRoomId, notificationNames, notifications,
  requestNames, requests, responses,
} from '../src/index.ts';

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
    createInvite: { ttlSeconds: 3600 },
    removePeer: { peerId: 'bob' },
    mutePeer: { peerId: 'bob', kind: 'audio' },
    lockRoom: { locked: true },
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
    ['produce', { transportId: 't', kind: 'video', rtpParameters: rtp, appData: { source: 'mic', synthetic: false } }, /appData\.source: a video producer's source is camera/],
    ['produce', { transportId: 't', kind: 'audio', rtpParameters: rtp, appData }, /appData\.source/],
    ['join', { room: 'ok', displayName: 'x', token: '' }, /token/],
    ['createInvite', { ttlSeconds: 30 }, /ttlSeconds/],
    ['leave', { now: true }, /unrecognized/i],
    ['removePeer', { peerId: '' }, /peerId/],
    ['removePeer', { peerId: 'bob', ban: true }, /unrecognized/i],
    ['mutePeer', { peerId: 'bob', kind: 'screen' }, /kind/],
    ['mutePeer', { peerId: 'bob' }, /kind/],
    ['lockRoom', { locked: 'yes' }, /locked/],
    ['lockRoom', {}, /locked/],
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

describe('answer and notification schemas', () => {
  const fingerprints = [{ algorithm: 'sha-256', value: 'AB:CD' }];
  const producer = { producerId: 'p1', peerId: 'ada', kind: 'video', paused: false, appData: { source: 'camera', synthetic: true, identityLabel: 'Astronaut' } };
  const answers: Record<string, unknown> = {
    join: { peerId: 'me', rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 }] }, peers: [{ id: 'ada', displayName: 'Ada' }], producers: [producer] },
    createTransport: {
      id: 't1',
      iceParameters: { usernameFragment: 'u', password: 'p', iceLite: true },
      iceCandidates: [{ foundation: 'udpcandidate', priority: 1, address: '127.0.0.1', ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' }],
      dtlsParameters: { role: 'auto', fingerprints },
    },
    connectTransport: {},
    produce: { producerId: 'p1' },
    consume: { consumerId: 'c1', producerId: 'p1', peerId: 'ada', kind: 'video', rtpParameters: rtp, producerPaused: true, appData: producer.appData },
    resumeConsumer: {},
    pauseProducer: {},
    resumeProducer: {},
    closeProducer: {},
    updateProducer: {},
    createInvite: { token: 'a.b.c', url: 'http://localhost:3000/?room=r&token=a.b.c', expiresAt: 1_800_000_000_000 },
    removePeer: {},
    mutePeer: {},
    lockRoom: {},
    leave: {},
  };
  const pushed: Record<string, unknown> = {
    peerJoined: { id: 'bob', displayName: 'Bob' },
    peerLeft: { peerId: 'bob' },
    newProducer: producer,
    producerClosed: { producerId: 'p1', peerId: 'ada' },
    producerPaused: { producerId: 'p1', peerId: 'ada' },
    producerResumed: { producerId: 'p1', peerId: 'ada' },
    producerUpdated: { producerId: 'p1', peerId: 'ada', appData: { source: 'camera', synthetic: false }, at: 1_800_000_000_000 },
    roomClosed: { reason: 'media_worker_died' },
    removedByHost: {},
    mutedByHost: { producerId: 'p1', peerId: 'ada', kind: 'audio' },
    roomLockChanged: { locked: true },
  };

  it('covers every request\'s answer and every notification', () => {
    expect(Object.keys(responses).sort()).toEqual([...requestNames].sort());
    expect(Object.keys(answers).sort()).toEqual([...requestNames].sort());
    expect(Object.keys(pushed).sort()).toEqual([...notificationNames].sort());
  });

  it.each(Object.entries(answers))('accepts a valid %s answer', (name, data) => {
    expect(responses[name as keyof typeof responses].parse(data)).toEqual(data);
  });

  it.each(Object.entries(pushed))('accepts a valid %s notification', (name, data) => {
    expect(notifications[name as keyof typeof notifications].parse(data)).toEqual(data);
  });

  it('passes on a room-close reason this client does not know', () => {
    expect(notifications.roomClosed.parse({ reason: 'maintenance' })).toEqual({ reason: 'maintenance' });
  });

  it('ignores fields a newer server adds, but not in producer appData', () => {
    expect(responses.produce.parse({ producerId: 'p1', score: 10 })).toEqual({ producerId: 'p1' });
    expect(notifications.newProducer.safeParse({ ...producer, appData: { ...producer.appData, admin: true } }).success).toBe(false);
  });

  const invalid: [string, 'answer' | 'notification', unknown, RegExp][] = [
    ['join', 'answer', { ...(answers.join as object), rtpCapabilities: { codecs: 'opus' } }, /rtpCapabilities\.codecs/],
    ['createTransport', 'answer', { ...(answers.createTransport as object), dtlsParameters: { fingerprints: [] } }, /dtlsParameters\.fingerprints: .*(too small|>=1)/i],
    ['createTransport', 'answer', { ...(answers.createTransport as object), iceParameters: { usernameFragment: 'u' } }, /iceParameters\.password/],
    ['consume', 'answer', { ...(answers.consume as object), rtpParameters: { codecs: [] } }, /rtpParameters\.codecs: .*(too small|>=1)/i],
    ['consume', 'answer', { consumerId: 'c1' }, /producerId/],
    ['produce', 'answer', undefined, /expected object/i],
    ['newProducer', 'notification', { ...producer, kind: 'data' }, /kind/],
    ['peerJoined', 'notification', { id: 'bob', displayName: ' ' }, /displayName: name is empty/],
    ['roomClosed', 'notification', { reason: 42 }, /reason/],
    ['producerUpdated', 'notification', { producerId: 'p1', peerId: 'ada', appData: { source: 'camera', synthetic: true } }, /^at: /],
  ];

  it.each(invalid)('rejects a bad %s %s: %j', (name, kind, data, message) => {
    const schema = kind === 'answer' ? responses[name as keyof typeof responses] : notifications[name as keyof typeof notifications];
    const r = schema.safeParse(data);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toMatch(message);
  });
});

describe('room and name rules', () => {
  it('builds the room schema and the character filter from one rule', () => {
    const typed = ' my room/é!_2 ';
    const shaped = typed.replace(notInRoomId, '');
    expect(shaped).toBe('myroom_2');
    expect(RoomId.safeParse(shaped).success).toBe(true);
    expect(RoomId.safeParse('a'.repeat(MAX_ROOM_LENGTH)).success).toBe(true);
    expect(RoomId.safeParse('a'.repeat(MAX_ROOM_LENGTH + 1)).success).toBe(false);
    expect(requests.join.safeParse({ room: 'r', displayName: 'x'.repeat(MAX_NAME_LENGTH) }).success).toBe(true);
  });
});
