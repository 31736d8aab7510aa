// Room logic against a real mediasoup worker, without sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notifications, NotificationName } from '@guise/shared';
import { OPEN_ROOM_GRANTS } from '../src/auth/joinClaims.ts';
import { WorkerPool } from '../src/media/WorkerPool.ts';
import { Peer } from '../src/rooms/Peer.ts';
import { RoomRegistry } from '../src/rooms/RoomRegistry.ts';
import { log, opusRtpParameters } from './helpers.ts';

const rtc = { listenIp: '127.0.0.1', announcedAddress: undefined, port: undefined, minPort: 40000, maxPort: 49999 };

function recordingPeer(id: string) {
  const inbox: { name: NotificationName; data: unknown }[] = [];
  const peer = new Peer(id, id.toUpperCase(), (name, data) => inbox.push({ name, data }), OPEN_ROOM_GRANTS);
  const got = <N extends NotificationName>(name: N) => inbox.filter((m) => m.name === name).map((m) => m.data as Notifications[N]);
  return { peer, inbox, got };
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Room with a real mediasoup worker', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  beforeAll(async () => {
    pool = await WorkerPool.create({ size: 1, rtc, log });
    rooms = new RoomRegistry(pool, log);
  });
  afterAll(() => pool.close());

  it('joins, produces, consumes, leaves and cleans up', async () => {
    const room = await rooms.getOrCreate('r1');
    expect(await rooms.getOrCreate('r1')).toBe(room);
    const a = recordingPeer('a');
    const b = recordingPeer('b');

    const joinedA = room.join(a.peer);
    expect(joinedA.peers).toEqual([]);
    expect((joinedA.rtpCapabilities as { codecs: { mimeType: string }[] }).codecs.map((c) => c.mimeType))
      .toEqual(expect.arrayContaining(['audio/opus', 'video/VP8']));

    const sendA = await room.createTransport(a.peer, { direction: 'send' });
    expect(sendA.iceCandidates.length).toBeGreaterThan(0);
    const { producerId } = await room.produce(a.peer, {
      transportId: sendA.id, kind: 'audio', rtpParameters: opusRtpParameters(1111),
      appData: { source: 'mic', synthetic: false },
    });

    const joinedB = room.join(b.peer);
    expect(joinedB.peers).toEqual([{ id: 'a', displayName: 'A' }]);
    expect(joinedB.producers).toEqual([{ producerId, peerId: 'a', kind: 'audio', paused: false, appData: { source: 'mic', synthetic: false } }]);
    expect(a.got('peerJoined')).toEqual([{ id: 'b', displayName: 'B' }]);

    const recvB = await room.createTransport(b.peer, { direction: 'recv' });
    const consumed = await room.consume(b.peer, { transportId: recvB.id, producerId, rtpCapabilities: joinedB.rtpCapabilities as never });
    expect(consumed).toMatchObject({ producerId, peerId: 'a', kind: 'audio', appData: { source: 'mic', synthetic: false } });
    const consumer = b.peer.consumers.get(consumed.consumerId)!;
    expect(consumer.paused).toBe(true); // resumed only when the client says it is ready
    await room.resumeConsumer(b.peer, { consumerId: consumed.consumerId });
    expect(consumer.paused).toBe(false);

    await room.setProducerPaused(a.peer, producerId, true);
    expect(b.got('producerPaused')).toEqual([{ producerId, peerId: 'a' }]);
    await waitFor(() => consumer.producerPaused, 'consumer to see the producer paused');

    // Wrong direction, unknown ids, and someone else's producer are refused.
    await expect(room.produce(b.peer, { transportId: recvB.id, kind: 'audio', rtpParameters: opusRtpParameters(2), appData: { source: 'mic', synthetic: false } }))
      .rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.consume(b.peer, { transportId: recvB.id, producerId: 'nope', rtpCapabilities: { codecs: [] } }))
      .rejects.toMatchObject({ code: 'not_found' });
    expect(() => room.closeProducer(b.peer, producerId)).toThrow(expect.objectContaining({ code: 'not_found' }));

    // A leaves: its transports and producers close, B's consumer follows, B is told.
    const transportA = a.peer.transports.get(sendA.id)!;
    room.leave(a.peer);
    expect(transportA.closed).toBe(true);
    expect(b.got('peerLeft')).toEqual([{ peerId: 'a' }]);
    await waitFor(() => consumer.closed, 'consumer to close with its producer');
    expect(b.peer.consumers.size).toBe(0);

    // The last one out closes the router and the room is forgotten.
    const transportB = b.peer.transports.get(recvB.id)!;
    room.leave(b.peer);
    expect(transportB.closed).toBe(true);
    expect(room.isClosed).toBe(true);
    expect(rooms.get('r1')).toBeUndefined();
    expect(await rooms.getOrCreate('r1')).not.toBe(room);
  });

  it('shares one room between concurrent first joins', async () => {
    const [x, y] = await Promise.all([rooms.getOrCreate('race'), rooms.getOrCreate('race')]);
    expect(x).toBe(y);
    x.close('server_shutdown');
  });

  it('recovers when a media worker is killed: rooms close, a replacement starts, a new join works', async () => {
    const room = await rooms.getOrCreate('doomed');
    const a = recordingPeer('a');
    room.join(a.peer);
    await room.createTransport(a.peer, { direction: 'send' });
    const [deadPid] = pool.pids;
    const replaced = new Promise<[number, number]>((resolve) => pool.once('replaced', (d, n) => resolve([d, n])));

    process.kill(deadPid!, 'SIGKILL');

    await waitFor(() => room.isClosed, 'room to close');
    expect(a.got('roomClosed')).toEqual([{ reason: 'media_worker_died' }]);
    expect(a.peer.transports.size).toBe(0);

    // A rejoin at once (while the replacement may still be starting) waits for it.
    const again = await rooms.getOrCreate('doomed');
    expect(again).not.toBe(room);
    const [reportedDead, newPid] = await replaced;
    expect(reportedDead).toBe(deadPid);
    expect(newPid).not.toBe(deadPid);
    expect(pool.pids).toEqual([newPid]);
    const b = recordingPeer('b');
    again.join(b.peer);
    const t = await again.createTransport(b.peer, { direction: 'send' });
    expect(t.id).toBeTruthy();
    again.leave(b.peer);
  });
});
