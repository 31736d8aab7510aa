// Host controls over real socket.io clients and a real mediasoup worker: a
// room admin removes a peer, mutes its audio or video, and locks the room;
// nobody else may, and the server enforces each (the client only shows them).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { JoinTokens } from '../src/auth/joinTokens.ts';
import { joinWithMedia, startTestApp, TestClient } from './helpers.ts';

const AUTH_SECRET = 'host-controls-secret-long-enough-for-hs256';
const guest = { canPublish: true, canSubscribe: true, roomAdmin: false };

function token(room: string, roomAdmin = false): Promise<string> {
  return new JoinTokens(AUTH_SECRET).sign({ room, grants: { ...guest, roomAdmin }, ttlSeconds: 600 }).then((t) => t.token);
}

describe('host controls (GUISE_AUTH_SECRET set)', () => {
  let app: App;
  const clients: TestClient[] = [];
  const client = async () => { const c = await TestClient.connect(app.url); clients.push(c); return c; };
  beforeAll(async () => { app = await startTestApp(1, { GUISE_AUTH_SECRET: AUTH_SECRET }); });
  afterEach(() => { for (const c of clients.splice(0)) c.close(); });
  afterAll(() => app.close());

  /** A host (admin) and a guest with a mic producer, in `room`. */
  async function hostAndGuest(room: string) {
    const host = await client();
    const h = await joinWithMedia(host, room, 'Host', 5001, await token(room, true));
    const guestClient = await client();
    const g = await joinWithMedia(guestClient, room, 'Guest', 5002, await token(room));
    return { host, h, guestClient, g };
  }

  it('lets the host remove a guest: the guest is told and dropped, the others see it leave, and it can join again', async () => {
    const { host, guestClient, g } = await hostAndGuest('remove');
    await host.request('removePeer', { peerId: g.joined.peerId });
    await guestClient.next('removedByHost');
    expect(await host.next('peerLeft', (d) => d.peerId === g.joined.peerId)).toEqual({ peerId: g.joined.peerId });
    // The removed connection is in no room: room requests fail, and a new join is allowed.
    expect(await guestClient.raw('createTransport', { direction: 'recv' })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    const again = await guestClient.request('join', { room: 'remove', displayName: 'Guest', token: await token('remove') });
    expect(again.peers.map((p) => p.displayName)).toEqual(['Host']);
  });

  it('lets the host mute a guest\'s audio: the producer is paused, the owner and the others are told, and the owner may unmute', async () => {
    const { host, h, guestClient, g } = await hostAndGuest('mute');
    const consumer = await host.request('consume', { transportId: h.recv.id, producerId: g.producerId, rtpCapabilities: h.joined.rtpCapabilities });
    expect(consumer.producerPaused).toBe(false);
    await host.request('mutePeer', { peerId: g.joined.peerId, kind: 'audio' });
    expect(await guestClient.next('mutedByHost')).toEqual({ producerId: g.producerId, peerId: g.joined.peerId, kind: 'audio' });
    await host.next('producerPaused', (d) => d.producerId === g.producerId);
    const producer = [...app.rooms.get('mute')!.members].find((p) => p.id === g.joined.peerId)!.producers.get(g.producerId!)!;
    expect(producer.paused).toBe(true);
    // The guest has no video producer: muting it says so.
    expect(await host.raw('mutePeer', { peerId: g.joined.peerId, kind: 'video' }))
      .toEqual({ ok: false, error: { code: 'not_found', message: 'Guest sends no video' } });
    // Unmuting stays the owner's choice.
    await guestClient.request('resumeProducer', { producerId: g.producerId });
    await host.next('producerResumed', (d) => d.producerId === g.producerId);
    expect(producer.paused).toBe(false);
  });

  it('refuses host controls from a guest, on oneself, on nobody, and malformed', async () => {
    const { host, h, guestClient, g } = await hostAndGuest('guests-cannot');
    const forbidden = { ok: false, error: { code: 'forbidden' } };
    expect(await guestClient.raw('removePeer', { peerId: h.joined.peerId })).toMatchObject(forbidden);
    expect(await guestClient.raw('mutePeer', { peerId: h.joined.peerId, kind: 'audio' })).toMatchObject(forbidden);
    expect(await guestClient.raw('lockRoom', { locked: true })).toMatchObject(forbidden);
    expect(await host.raw('removePeer', { peerId: h.joined.peerId })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await host.raw('removePeer', { peerId: 'nobody' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await host.raw('mutePeer', { peerId: g.joined.peerId, kind: 'screen' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await host.raw('lockRoom', { locked: 'yes' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await host.raw('lockRoom', { locked: true, extra: 1 })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    // Nothing changed: the guest is still in, unmuted.
    const guestPeer = [...app.rooms.get('guests-cannot')!.members].find((p) => p.id === g.joined.peerId);
    expect(guestPeer?.producers.get(g.producerId!)?.paused).toBe(false);
    // Outside a room there is nobody to act on.
    const outsider = await client();
    expect(await outsider.raw('lockRoom', { locked: true })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
  });

  it('lets the host lock the room: a valid guest token is refused with room_locked, an admin\'s is not, and unlocking lets guests in', async () => {
    const { host, guestClient } = await hostAndGuest('lock');
    await host.request('lockRoom', { locked: true });
    expect(await guestClient.next('roomLockChanged')).toEqual({ locked: true });
    const late = await client();
    expect(await late.raw('join', { room: 'lock', displayName: 'Late', token: await token('lock') }))
      .toEqual({ ok: false, error: { code: 'room_locked', message: 'the host has locked this room; ask them to unlock it' } });
    const coHost = await client();
    const joined = await coHost.request('join', { room: 'lock', displayName: 'Co-host', token: await token('lock', true) });
    expect(joined.locked).toBe(true);
    await host.request('lockRoom', { locked: false });
    expect((await late.request('join', { room: 'lock', displayName: 'Late', token: await token('lock') })).locked).toBe(false);
  });
});
