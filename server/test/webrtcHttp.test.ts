// WHIP/WHEP: the pure SDP mapping (offers as simple-whip-client and Chromium
// send them), the path and status rules, and the HTTP edge of a real app
// (body limit, content type, methods, a garbled offer) after which a real
// offer still gets its 201.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import type { App } from '../src/app.ts';
import { RequestError } from '../src/errors.ts';
import { mediaCodecs } from '../src/media/codecs.ts';
import { answerSdp } from '../src/webrtcHttp/sdpAnswer.ts';
import { egressCapabilities, egressRouterCodecs, ingestSection } from '../src/webrtcHttp/sdpMapping.ts';
import { parseOffer, SdpError } from '../src/webrtcHttp/sdpOffer.ts';
import { MAX_OFFER_BYTES, parseWebRtcPath, statusFor } from '../src/webrtcHttp/routes.ts';
import { startTestApp } from './helpers.ts';

const FP = 'sha-256 2F:90:BA:9C:D1:9E:5F:90:69:2C:0E:5B:02:4A:94:23:00:91:1D:B0:D1:F6:10:5C:52:C0:DE:5C:31:32:6B:04';

/** What Debian's simple-whip-client sent for H.264 + opus (candidates trimmed). */
const GSTREAMER_OFFER = [
  'v=0', 'o=- 7500606469448341626 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=ice-options:trickle', 'a=group:BUNDLE video0 audio1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=setup:actpass', 'a=ice-ufrag:FRre9xZ7', 'a=ice-pwd:lARuZSRqoir3JcBksNQq1EV9', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=sendonly',
  'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 ccm fir', 'a=rtcp-fb:96 transport-cc',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;level-asymmetry-allowed=1',
  'a=ssrc:2 cname:user1@host', 'a=mid:video0', `a=fingerprint:${FP}`,
  'm=audio 0 UDP/TLS/RTP/SAVPF 100', 'c=IN IP4 0.0.0.0', 'a=setup:actpass', 'a=bundle-only', 'a=rtcp-mux', 'a=sendonly',
  'a=rtpmap:100 OPUS/48000/2', 'a=rtcp-fb:100 transport-cc', 'a=ssrc:1 cname:user1@host', 'a=mid:audio1', `a=fingerprint:${FP}`,
  '',
].join('\r\n');

/** A player's recvonly offer in Chromium's payload types (VP8 96 + RTX 97, H.264 at 102, opus 111). */
const PLAYER_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly', 'a=setup:actpass', `a=fingerprint:${FP}`,
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=recvonly', 'a=setup:actpass', `a=fingerprint:${FP}`,
  'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1',
  '',
].join('\r\n');

/** The router's capabilities as mediasoup derives them from the room codecs (payload types from 100). */
const routerCaps: types.RtpCapabilities = {
  codecs: mediaCodecs.map((c, i) => ({ ...c, preferredPayloadType: 100 + i, rtcpFeedback: c.kind === 'video'
    ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }]
    : [{ type: 'transport-cc' }] })) as types.RtpCodecCapability[],
  headerExtensions: [{ kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1 }],
};

const transport = {
  iceParameters: { usernameFragment: 'ufrag', password: 'pwd', iceLite: true },
  iceCandidates: [{ foundation: 'udpcandidate', priority: 1076558079, ip: '127.0.0.1', address: '127.0.0.1', protocol: 'udp' as const, port: 40000, type: 'host' as const }],
  dtlsParameters: { fingerprints: [{ algorithm: 'sha-256' as const, value: 'AA:BB' }] },
};

describe('WHIP: an offer becomes producers and an answer', () => {
  it('reads simple-whip-client\'s offer: DTLS client, H.264 video and a bundle-only opus line', () => {
    const offer = parseOffer(GSTREAMER_OFFER);
    expect(offer.dtls).toEqual({ role: 'client', fingerprints: [{ algorithm: 'sha-256', value: FP.split(' ')[1] }] });
    expect(offer.media.map((m) => [m.kind, m.mid, m.direction, m.ssrc, m.usable])).toEqual([
      ['video', 'video0', 'sendonly', 2, true],
      ['audio', 'audio1', 'sendonly', 1, true],
    ]);
  });

  it('takes the H.264 profile OBS sends, with its own payload type and SSRC, and answers recvonly on the transport', () => {
    const offer = parseOffer(GSTREAMER_OFFER);
    const video = ingestSection(offer.media[0]!, routerCaps)!;
    expect(video.kind).toBe('video');
    expect(video.rtpParameters.codecs[0]).toMatchObject({ mimeType: 'video/H264', payloadType: 96, parameters: { 'packetization-mode': 1 } });
    expect(video.rtpParameters.encodings).toEqual([{ ssrc: 2 }]);
    expect(video.rtpParameters.rtcp).toEqual({ cname: 'user1@host', reducedSize: true });
    const audio = ingestSection(offer.media[1]!, routerCaps)!;
    expect(audio.rtpParameters.codecs[0]).toMatchObject({ mimeType: 'audio/OPUS', payloadType: 100, channels: 2 });

    const answer = answerSdp(offer, transport, new Map([[0, video.answer], [1, audio.answer]]), 1);
    expect(answer).toMatch(/a=ice-lite/);
    expect(answer).toMatch(/a=group:BUNDLE video0 audio1/);
    expect(answer).toMatch(/a=setup:passive/);
    expect(answer).toMatch(/a=recvonly/);
    expect(answer).toMatch(/a=candidate:udpcandidate 1 udp 1076558079 127.0.0.1 40000 typ host/);
    expect(answer).toMatch(/m=video 9 UDP\/TLS\/RTP\/SAVPF 96\r\n/);
  });

  it('refuses what the router cannot take: H.264 without packetization-mode 1, a codec it lacks, a recvonly line', () => {
    const mode0 = parseOffer(GSTREAMER_OFFER.replace('packetization-mode=1;', ''));
    expect(ingestSection(mode0.media[0]!, routerCaps)).toBeUndefined();
    const vp9 = parseOffer(GSTREAMER_OFFER.replace('H264/90000', 'VP9/90000'));
    expect(ingestSection(vp9.media[0]!, routerCaps)).toBeUndefined();
    const recv = parseOffer(GSTREAMER_OFFER.replace('a=sendonly', 'a=recvonly'));
    expect(ingestSection(recv.media[0]!, routerCaps)).toBeUndefined();
    // A rejected line is answered with port 0 and left out of the bundle.
    const answer = answerSdp(vp9, transport, new Map([[1, ingestSection(vp9.media[1]!, routerCaps)!.answer]]), 1);
    expect(answer).toMatch(/m=video 0 UDP\/TLS\/RTP\/SAVPF 96/);
    expect(answer).toMatch(/a=group:BUNDLE audio1\r\n/);
  });

  it('says why a body is not a usable offer', () => {
    expect(() => parseOffer('hello')).toThrow(SdpError);
    expect(() => parseOffer(GSTREAMER_OFFER.replaceAll(`a=fingerprint:${FP}\r\n`, ''))).toThrow(/fingerprint/);
    const many = GSTREAMER_OFFER + Array.from({ length: 8 }, (_, i) => `m=audio 9 UDP/TLS/RTP/SAVPF 100\r\na=mid:x${i}\r\n`).join('');
    expect(() => parseOffer(many)).toThrow(/more than 8 m-lines/);
  });
});

describe('WHEP: a player\'s offer decides the payload types', () => {
  const producers = [
    { kind: 'video' as const, rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {} }, { mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 } }] } },
    { kind: 'audio' as const, rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] } },
  ];

  it('makes the viewer\'s router with the offer\'s payload types, no RTX', () => {
    const offer = parseOffer(PLAYER_OFFER);
    expect(egressRouterCodecs(producers, offer.media)).toEqual([
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96, parameters: {} },
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, preferredPayloadType: 111, channels: 2, parameters: {} },
    ]);
    // A video-only offer gets video only; an offer without the source's codec gets nothing.
    expect(egressRouterCodecs(producers, offer.media.slice(0, 1)).map((c) => c.kind)).toEqual(['video']);
    expect(egressRouterCodecs(producers, parseOffer(PLAYER_OFFER.replace('VP8/90000', 'VP9/90000')).media.slice(0, 1))).toEqual([]);
  });

  it('offers the consumer every codec and extension at the offer\'s numbers', () => {
    const caps = egressCapabilities(parseOffer(PLAYER_OFFER).media[0]!);
    expect(caps.codecs!.map((c) => [c.mimeType, c.preferredPayloadType])).toEqual([['video/VP8', 96], ['video/rtx', 97], ['video/H264', 102]]);
    expect(caps.headerExtensions).toEqual([{ kind: 'video', uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', preferredId: 4, direction: 'sendrecv' }]);
  });
});

describe('WHIP/WHEP paths and status codes', () => {
  it('routes only /whip and /whep paths, decoded', () => {
    expect(parseWebRtcPath('/whip/room')).toEqual({ kind: 'whip', segments: ['room'] });
    expect(parseWebRtcPath('/whep/room/Ada%20L')).toEqual({ kind: 'whep', segments: ['room', 'Ada L'] });
    expect(parseWebRtcPath('/whipped')).toBeUndefined();
    expect(parseWebRtcPath('/output')).toBeUndefined();
  });

  it('maps room refusals onto the RFC\'s codes', () => {
    expect(statusFor(new RequestError('unauthorized', ''))).toBe(401);
    expect(statusFor(new RequestError('forbidden', ''))).toBe(403);
    expect(statusFor(new RequestError('room_locked', ''))).toBe(403);
    expect(statusFor(new RequestError('not_found', ''))).toBe(404);
    expect(statusFor(new RequestError('name_taken', ''))).toBe(409);
    expect(statusFor(new RequestError('limit_reached', ''))).toBe(503);
    expect(statusFor(new RequestError('media_error', ''))).toBe(400);
  });
});

describe('the WHIP endpoint of a real server', () => {
  let app: App;
  beforeAll(async () => { app = await startTestApp(); });
  afterAll(async () => { await app?.close(); });

  const post = (body: string, contentType = 'application/sdp', path = '/whip/edge') =>
    fetch(`${app.url}${path}`, { method: 'POST', headers: { 'Content-Type': contentType }, body });

  it('refuses a body over the limit, the wrong type, other methods and garbage, each with its code and a reason', async () => {
    const big = await post(`v=0\r\n${'a=x\r\n'.repeat(MAX_OFFER_BYTES / 5)}`);
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/larger than/);
    expect((await post(GSTREAMER_OFFER, 'application/json')).status).toBe(415);
    const get = await fetch(`${app.url}/whip/edge`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toMatch(/POST/);
    expect((await post('v=0\r\nm=garbage\r\n')).status).toBe(400);
    expect((await post(GSTREAMER_OFFER.replace('H264/90000', 'VP9/90000').replace('OPUS/48000/2', 'G722/8000'))).status).toBe(400);
    expect((await post(GSTREAMER_OFFER, 'application/sdp', '/whip/bad%room')).status).toBe(404);
    expect((await post(PLAYER_OFFER, 'application/sdp', '/whep/edge/Nobody')).status).toBe(404);
    // None of that left a room behind, and a real offer still works.
    expect(app.rooms.size).toBe(0);
    const ok = await post(GSTREAMER_OFFER);
    expect(ok.status).toBe(201);
    const location = ok.headers.get('location')!;
    expect(location).toMatch(/^\/whip\/edge\/[0-9a-f-]{36}$/);
    expect([...app.rooms.get('edge')!.members].map((p) => p.displayName)).toEqual(['WHIP']);
    expect((await fetch(`${app.url}${location}`, { method: 'DELETE' })).status).toBe(200);
    expect(app.rooms.size).toBe(0);
  });

  it('answers 300 mangled offers with a 4xx or a 201, never a 500, and stays up', async () => {
    let seed = 13;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const lines = GSTREAMER_OFFER.split('\r\n');
    const noise = ['a=rtpmap:96 H264/0', 'a=fmtp:96 packetization-mode=9999999999', 'a=ssrc:0 cname:x', 'a=mid:' + 'm'.repeat(40),
      'a=rtpmap:300 VP8/90000', 'm=video -1 RTP/AVP 96', 'a=extmap:99 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=fingerprint:md5 00', '\u0000\uffff', 'a=setup:holdconn'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const mangled = lines.filter(() => rnd() > 0.08).map((l) => (rnd() < 0.05 ? noise[Math.floor(rnd() * noise.length)]! : rnd() < 0.03 ? l.slice(0, Math.floor(rnd() * l.length)) : l));
      const res = await post(mangled.join(rnd() < 0.1 ? '\n' : '\r\n'), 'application/sdp', `/whip/fuzz-${i % 3}`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, await res.clone().text()).not.toBe(500);
      if (res.status === 201) await fetch(`${app.url}${res.headers.get('location')}`, { method: 'DELETE' });
    }
    console.log('mangled offers by status:', Object.fromEntries(statuses));
    expect([...statuses.keys()].every((code) => code === 201 || (code >= 400 && code < 500))).toBe(true);
    expect(app.rooms.size).toBe(0);
    const ok = await post(GSTREAMER_OFFER);
    expect(ok.status).toBe(201);
    await fetch(`${app.url}${ok.headers.get('location')}`, { method: 'DELETE' });
  });
});
