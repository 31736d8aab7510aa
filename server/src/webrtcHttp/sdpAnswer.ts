// The SDP answer to a WHIP/WHEP offer: one m-line per offered m-line, in
// order; accepted ones bundled on the mediasoup transport's ICE and DTLS
// parameters and candidates (mediasoup is ICE-lite: all candidates are in the
// answer, nothing trickles), rejected ones with port 0. Pure.
import { write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { types } from 'mediasoup';
import type { AcceptedSection } from './sdpMapping.ts';
import type { Offer, OfferedMedia } from './sdpOffer.ts';

export interface TransportSide {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export function answerSdp(offer: Offer, transport: TransportSide, accepted: Map<number, AcceptedSection>, sessionVersion: number): string {
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  // The offer's role decides ours: a DTLS client offer (actpass/active) gets a passive answer.
  const setup = offer.dtls.role === 'server' ? 'active' : 'passive';
  const mids = offer.media.filter((m) => accepted.has(m.index)).map((m) => m.mid);
  const sdp: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: String(sessionVersion), sessionVersion: 2, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    groups: mids.length ? [{ type: 'BUNDLE', mids: mids.join(' ') }] : [],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media: offer.media.map((m) => {
      const section = accepted.get(m.index);
      return section ? acceptedMedia(m, section, transport, fingerprint, setup) : rejectedMedia(m);
    }),
  };
  return write(sdp);
}

function acceptedMedia(m: OfferedMedia, s: AcceptedSection, t: TransportSide, fingerprint: types.DtlsFingerprint, setup: string): MediaDescription {
  const media: MediaDescription = {
    type: m.kind,
    port: 9,
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: s.codecs.map((c) => c.payloadType).join(' '),
    connection: { version: 4, ip: '0.0.0.0' },
    mid: m.mid,
    direction: s.direction,
    iceUfrag: t.iceParameters.usernameFragment,
    icePwd: t.iceParameters.password,
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    setup,
    candidates: t.iceCandidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.address,
      port: c.port,
      type: c.type,
      ...(c.tcpType ? { tcptype: c.tcpType } : {}),
    })),
    endOfCandidates: 'end-of-candidates',
    rtcpMux: 'rtcp-mux',
    rtcpRsize: 'rtcp-rsize',
    rtp: s.codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.mimeType.split('/')[1]!,
      rate: c.clockRate,
      ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: s.codecs.filter((c) => c.parameters && Object.keys(c.parameters).length > 0).map((c) => ({
      payload: c.payloadType,
      config: Object.entries(c.parameters!).map(([k, v]) => `${k}=${String(v)}`).join(';'),
    })),
    rtcpFb: s.codecs.flatMap((c) => (c.rtcpFeedback ?? []).map((fb) => ({ payload: c.payloadType, type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) }))),
    ext: s.headerExtensions.map((e) => ({ value: e.id, uri: e.uri })),
  };
  if (s.send) {
    const { ssrc, rtxSsrc, cname, streamId, trackId } = s.send;
    media.msid = [{ id: streamId, appdata: trackId }];
    media.ssrcs = [
      { id: ssrc, attribute: 'cname', value: cname },
      ...(rtxSsrc === undefined ? [] : [{ id: rtxSsrc, attribute: 'cname', value: cname }]),
    ];
    if (rtxSsrc !== undefined) media.ssrcGroups = [{ semantics: 'FID', ssrcs: `${ssrc} ${rtxSsrc}` }];
  }
  return media;
}

function rejectedMedia(m: OfferedMedia): MediaDescription {
  return {
    type: m.line.type,
    port: 0,
    protocol: m.line.protocol,
    payloads: m.line.payloads || '0',
    connection: { version: 4, ip: '0.0.0.0' },
    mid: m.mid,
    direction: 'inactive',
    rtp: [],
    fmtp: [],
  };
}
