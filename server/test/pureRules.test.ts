// The pure rules behind the security checks, without I/O: join-token claims,
// display names, the token bucket, the Origin policy, RTP parameter checks.
import { describe, expect, it } from 'vitest';
import { checkJoinClaims, parseTtl } from '../src/auth/joinClaims.ts';
import { nameKey, normaliseDisplayName } from '../src/rooms/displayName.ts';
import { rtpParametersProblem } from '../src/rooms/rtpChecks.ts';
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy } from '../src/http/securityHeaders.ts';
import { originAllowed } from '../src/signaling/origin.ts';
import { TokenBucket } from '../src/signaling/TokenBucket.ts';

describe('checkJoinClaims', () => {
  const grants = { canPublish: true, canSubscribe: true, roomAdmin: false };
  const claims = { room: 'standup', name: 'Ada', grants, nbf: 1000, exp: 2000 };
  it('admits a holder to its room between nbf and exp', () => {
    expect(checkJoinClaims(claims, 'standup', 1000)).toEqual({ ok: true, claims });
    expect(checkJoinClaims({ ...claims, name: undefined }, 'standup', 1999).ok).toBe(true);
  });
  it('refuses another room, too early, expired, and malformed claims, saying which', () => {
    expect(checkJoinClaims(claims, 'other', 1500)).toEqual({ ok: false, reason: 'the token is for another room' });
    expect(checkJoinClaims(claims, 'standup', 999)).toEqual({ ok: false, reason: 'the token is not valid yet' });
    expect(checkJoinClaims(claims, 'standup', 2000)).toEqual({ ok: false, reason: 'the token has expired' });
    expect(checkJoinClaims({ ...claims, grants: { canPublish: true } }, 'standup', 1500)).toMatchObject({ ok: false, reason: expect.stringMatching(/grants\.canSubscribe/) });
    expect(checkJoinClaims({ ...claims, grants: { ...grants, superuser: true } }, 'standup', 1500).ok).toBe(false);
    expect(checkJoinClaims({ room: 'standup', grants }, 'standup', 1500)).toMatchObject({ ok: false, reason: expect.stringMatching(/exp/) });
    expect(checkJoinClaims('nonsense', 'standup', 1500).ok).toBe(false);
  });
  it('parses token lifetimes', () => {
    expect(['90s', '15m', '6h', '2d', '3600'].map(parseTtl)).toEqual([90, 900, 21600, 172800, 3600]);
    for (const bad of ['', '0', '6x', '-1h', '31d', '1.5h', 'h']) expect(parseTtl(bad), bad).toBeUndefined();
  });
});

describe('normaliseDisplayName', () => {
  it('NFC-normalises, collapses spaces and trims', () => {
    expect(normaliseDisplayName('  Jose\u0301   Ma  ')).toEqual({ ok: true, name: 'José Ma' });
    expect(normaliseDisplayName('👩🏽 Ada')).toEqual({ ok: true, name: '👩🏽 Ada' });
  });
  it.each([
    ['bidi override', 'Ada\u202Egnp.exe', '202E'],
    ['bidi isolate', '\u2067Ada', '2067'],
    ['zero-width space', 'A\u200Bda', '200B'],
    ['zero-width joiner', 'A\u200Dda', '200D'],
    ['byte order mark', '\uFEFFAda', 'FEFF'],
    ['control character', 'Ada\u0007', '0007'],
    ['newline', 'Ada\nBob', '000A'],
    ['Hangul filler', '\u3164', '3164'],
    ['lone surrogate', 'Ada\uD800', 'D800'],
  ])('refuses a %s', (_, raw, code) => {
    expect(normaliseDisplayName(raw)).toEqual({ ok: false, reason: `name contains an invisible or control character (U+${code})` });
  });
  it('refuses an empty or over-long name', () => {
    expect(normaliseDisplayName('   ')).toEqual({ ok: false, reason: 'name is empty' });
    expect(normaliseDisplayName('x'.repeat(41)).ok).toBe(false);
  });
  it('gives lookalike names one key', () => {
    expect(nameKey('Ada')).toBe(nameKey('ADA'));
    expect(nameKey('Ａｄａ')).toBe(nameKey('ada')); // fullwidth forms
    expect(nameKey('José')).toBe(nameKey('Jose\u0301'));
    expect(nameKey('Ada')).not.toBe(nameKey('Bob'));
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at its rate', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 499;
    expect(bucket.take()).toBe(false);
    now = 500; // 2 per second: one token after 500 ms
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now = 60_000; // never more than the capacity
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('originAllowed', () => {
  const own = { allowed: undefined, publicOrigin: undefined, tls: false };
  it('allows the server\'s own origin and requests without Origin by default', () => {
    expect(originAllowed('http://localhost:3000', 'localhost:3000', own)).toBe(true);
    expect(originAllowed(undefined, 'localhost:3000', own)).toBe(true);
    expect(originAllowed('https://meet.example', 'internal:3000', { ...own, publicOrigin: 'https://meet.example' })).toBe(true);
  });
  it('refuses other origins, and the own host on the other scheme', () => {
    expect(originAllowed('https://evil.example', 'localhost:3000', own)).toBe(false);
    expect(originAllowed('https://localhost:3000', 'localhost:3000', own)).toBe(false);
    expect(originAllowed('null', 'localhost:3000', own)).toBe(false);
  });
  it('with ALLOWED_ORIGINS, allows exactly those', () => {
    const listed = { ...own, allowed: ['https://a.example'] };
    expect(originAllowed('https://a.example', 'x', listed)).toBe(true);
    expect(originAllowed('http://x', 'x', listed)).toBe(false);
  });
  it('in a cluster, also allows the live nodes\' origins (a page one node served, sent to another for its room)', () => {
    const cluster = { ...own, allowed: ['https://a.example'], clusterOrigins: () => ['http://node-b.test:3001'] };
    expect(originAllowed('http://node-b.test:3001', 'x', cluster)).toBe(true);
    expect(originAllowed('http://node-c.test:3001', 'x', cluster)).toBe(false);
  });
});

describe('contentSecurityPolicy', () => {
  it('without other nodes is the fixed policy', () => expect(contentSecurityPolicy([])).toBe(CONTENT_SECURITY_POLICY));
  it('lets the page connect to the cluster\'s other nodes over http(s) and ws(s), and drops anything that is not a bare origin', () => {
    const csp = contentSecurityPolicy(['http://node-b.test:3001', 'https://c.example', "https://x.example; script-src 'unsafe-inline'", 'https://d.example/path']);
    expect(csp).toContain("connect-src 'self' http://node-b.test:3001 ws://node-b.test:3001 https://c.example wss://c.example blob: data:;");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('d.example');
  });
});

describe('rtpParametersProblem', () => {
  const ok = { codecs: [{ payloadType: 111 }], encodings: [{ ssrc: 1, rtx: { ssrc: 2 } }], rtcp: { cname: 'abc' } };
  it('passes what browsers send', () => expect(rtpParametersProblem(ok)).toBeUndefined());
  it('refuses ssrc 0, payload types outside 0-127 and long CNAMEs', () => {
    expect(rtpParametersProblem({ ...ok, encodings: [{ ssrc: 0 }] })).toBe('ssrc 0 is not allowed');
    expect(rtpParametersProblem({ ...ok, encodings: [{ ssrc: 5, rtx: { ssrc: 0 } }] })).toBe('ssrc 0 is not allowed');
    expect(rtpParametersProblem({ ...ok, codecs: [{ payloadType: 128 }] })).toBe('payload type 128 is outside 0-127');
    expect(rtpParametersProblem({ ...ok, codecs: [{ payloadType: -1 }] })).toBe('payload type -1 is outside 0-127');
    expect(rtpParametersProblem({ ...ok, rtcp: { cname: 'x'.repeat(256) } })).toBe('RTCP CNAME is longer than 255 characters');
    expect(rtpParametersProblem({ ...ok, rtcp: { cname: 'x'.repeat(255) } })).toBeUndefined();
  });
});
