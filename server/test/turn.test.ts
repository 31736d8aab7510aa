// TURN REST credentials (coturn use-auth-secret): the pure derivation against
// a vector computed by openssl, and a real join answer carrying them.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { turnCredentials } from '../src/auth/turnCredentials.ts';
import { loadConfig } from '../src/config.ts';
import { startTestApp, TestClient } from './helpers.ts';

describe('turnCredentials', () => {
  it('derives coturn\'s REST credentials: "<expiry>:<peer>" and base64(HMAC-SHA1(secret, username))', () => {
    // printf '%s' '1700003600:peer-1' | openssl dgst -sha1 -hmac 'turn-secret' -binary | base64
    const creds = turnCredentials({ urls: ['turn:127.0.0.1:3478'], secret: 'turn-secret', ttlSeconds: 3600 }, 'peer-1', 1_700_000_000);
    expect(creds).toEqual({ urls: ['turn:127.0.0.1:3478'], username: '1700003600:peer-1', credential: 'tmDb417OaEDFVgwNM10j+R7GncY=' });
  });
});

describe('TURN configuration', () => {
  it('wants TURN_URLS and TURN_SECRET together, and only turn: or turns: URLs', () => {
    expect(() => loadConfig({ TURN_URLS: 'turn:127.0.0.1:3478' })).toThrow('set both TURN_URLS and TURN_SECRET, or neither');
    expect(() => loadConfig({ TURN_SECRET: 'a-long-enough-turn-secret' })).toThrow('set both TURN_URLS and TURN_SECRET, or neither');
    expect(() => loadConfig({ TURN_URLS: 'http://turn.example', TURN_SECRET: 'a-long-enough-turn-secret' })).toThrow(/is not a turn: or turns: URL/);
    expect(() => loadConfig({ TURN_URLS: 'turn:a', TURN_SECRET: 'short' })).toThrow(/at least 16 characters/);
    expect(loadConfig({ TURN_URLS: 'turn:a:3478?transport=udp, turns:a:5349', TURN_SECRET: 'a-long-enough-turn-secret', TURN_TTL_S: '600' }).turn)
      .toEqual({ urls: ['turn:a:3478?transport=udp', 'turns:a:5349'], secret: 'a-long-enough-turn-secret', ttlSeconds: 600 });
    expect(loadConfig({}).turn).toBeUndefined();
  });
});

describe('a join answer on a server with TURN', () => {
  const secret = 'join-answer-turn-secret';
  let app: App;
  let plain: App;
  beforeAll(async () => {
    [app, plain] = await Promise.all([
      startTestApp(1, { TURN_URLS: 'turn:127.0.0.1:3478?transport=udp', TURN_SECRET: secret, TURN_TTL_S: '600' }),
      startTestApp(1),
    ]);
  });
  afterAll(() => Promise.all([app.close(), plain.close()]));

  it('carries credentials for this peer that coturn can check, valid for TURN_TTL_S', async () => {
    const c = await TestClient.connect(app.url);
    const before = Math.floor(Date.now() / 1000);
    const joined = await c.request('join', { room: 'turn', displayName: 'Ada' });
    const after = Math.floor(Date.now() / 1000);
    c.close();
    expect(joined.iceServers).toHaveLength(1);
    const [server] = joined.iceServers!;
    expect(server!.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    const [expiry, peerId] = server!.username.split(':');
    expect(peerId).toBe(joined.peerId);
    // Issued during the join: expiry is that moment plus TURN_TTL_S.
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(after + 600);
    expect(server!.credential).toBe(createHmac('sha1', secret).update(server!.username).digest('base64'));
  });

  it('carries none without TURN configured', async () => {
    const c = await TestClient.connect(plain.url);
    const joined = await c.request('join', { room: 'no-turn', displayName: 'Ada' });
    c.close();
    expect(joined.iceServers).toBeUndefined();
  });
});
