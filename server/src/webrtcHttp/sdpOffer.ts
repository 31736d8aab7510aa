// A WHIP or WHEP client's SDP offer, read into what mediasoup needs: the
// DTLS fingerprint and role, and per m-section its kind, mid, direction,
// codecs, header extensions and SSRCs. Pure: no I/O, tested alone.
//
// The ICE side needs nothing from the offer: mediasoup is ICE-lite, the
// client checks our candidates and mediasoup answers whatever ufrag it sends
// with ours.
import { parse, parseParams, type MediaDescription } from 'sdp-transform';
import type { types } from 'mediasoup';

export class SdpError extends Error {}

export interface OfferedCodec {
  payloadType: number;
  /** 'VP8', 'H264', 'opus', 'rtx', ... as written in the rtpmap. */
  name: string;
  clockRate: number;
  channels: number | undefined;
  parameters: Record<string, string | number>;
  rtcpFeedback: types.RtcpFeedback[];
}

export interface OfferedMedia {
  /** Position of the m-line: the answer has one m-line for each, in order. */
  index: number;
  kind: 'audio' | 'video';
  mid: string;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  codecs: OfferedCodec[];
  extensions: { id: number; uri: string }[];
  /** The media SSRC and its RTX SSRC (from an FID group), when the offer names them. */
  ssrc: number | undefined;
  rtxSsrc: number | undefined;
  cname: string | undefined;
  /** m-lines of another kind (application, a port-0 line) are answered as rejected. */
  usable: boolean;
  /** The m-line as offered, for a rejected line's echo. */
  line: { type: string; protocol: string; payloads: string };
}

export interface Offer {
  dtls: types.DtlsParameters;
  media: OfferedMedia[];
}

/** Offers come from anywhere; more m-lines than this is not a WHIP/WHEP client. */
const MAX_MEDIA_SECTIONS = 8;

export function parseOffer(text: string): Offer {
  if (!/^v=0\r?\n/.test(text)) throw new SdpError('the body is not an SDP offer (it must start with "v=0")');
  let sdp: ReturnType<typeof parse>;
  try {
    sdp = parse(text);
  } catch (err) {
    throw new SdpError(`the SDP offer could not be parsed: ${(err as Error).message}`);
  }
  if (!sdp.media?.length) throw new SdpError('the SDP offer has no m-line');
  if (sdp.media.length > MAX_MEDIA_SECTIONS) throw new SdpError(`the SDP offer has more than ${MAX_MEDIA_SECTIONS} m-lines`);
  const fingerprint = sdp.media.find((m) => m.fingerprint)?.fingerprint ?? sdp.fingerprint;
  if (!fingerprint) throw new SdpError('the SDP offer has no a=fingerprint');
  const algorithm = fingerprint.type.toLowerCase();
  if (!['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'].includes(algorithm)) throw new SdpError(`unsupported fingerprint algorithm ${fingerprint.type}`);
  const setup = sdp.media.find((m) => m.setup)?.setup ?? (sdp as { setup?: string }).setup ?? 'actpass';
  return {
    dtls: {
      // The role is the client's: actpass or active makes it the DTLS client (our answer says passive).
      role: setup === 'passive' ? 'server' : 'client',
      fingerprints: [{ algorithm: algorithm as types.FingerprintAlgorithm, value: fingerprint.hash.toUpperCase() }],
    },
    media: sdp.media.map((m, index) => offeredMedia(m, index)),
  };
}

function offeredMedia(m: MediaDescription, index: number): OfferedMedia {
  const kind = m.type === 'audio' || m.type === 'video' ? m.type : undefined;
  const mid = m.mid === undefined ? String(index) : String(m.mid);
  if (mid.length > 32) throw new SdpError(`m-line ${index}: a=mid is longer than 32 characters`);
  const rtcpFb = m.rtcpFb ?? [];
  const codecs: OfferedCodec[] = (m.rtp ?? []).map((r) => {
    const fmtp = m.fmtp?.find((f) => f.payload === r.payload);
    return {
      payloadType: r.payload,
      name: r.codec,
      clockRate: r.rate ?? 90000,
      channels: r.encoding === undefined ? undefined : Number(r.encoding),
      parameters: fmtp ? parseParams(fmtp.config) as Record<string, string | number> : {},
      rtcpFeedback: rtcpFb.filter((fb) => String(fb.payload) === String(r.payload) || fb.payload === '*')
        .map((fb) => ({ type: fb.type, ...(fb.subtype ? { parameter: fb.subtype } : {}) })),
    };
  });
  for (const c of codecs) {
    if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) throw new SdpError(`m-line ${index}: payload type ${c.payloadType} is outside 0-127`);
  }
  const fid = m.ssrcGroups?.find((g) => g.semantics === 'FID');
  const [fidMain, fidRtx] = fid ? fid.ssrcs.split(' ').map(Number) : [];
  const ssrc = fidMain ?? (m.ssrcs?.[0] ? Number(m.ssrcs[0].id) : undefined);
  const cname = m.ssrcs?.find((s) => s.attribute === 'cname')?.value;
  return {
    index,
    kind: kind ?? 'audio',
    mid,
    direction: (m.direction ?? 'sendrecv') as OfferedMedia['direction'],
    codecs,
    extensions: (m.ext ?? []).map((e) => ({ id: e.value, uri: e.uri })),
    ssrc: ssrc && ssrc > 0 && ssrc < 2 ** 32 ? ssrc : undefined,
    rtxSsrc: fidRtx && fidRtx > 0 && fidRtx < 2 ** 32 ? fidRtx : undefined,
    cname: cname?.slice(0, 255),
    // Port 0 with a=bundle-only is not a rejection: the m-line rides on the bundle (RFC 8843).
    usable: kind !== undefined && (m.port !== 0 || (m as { bundleOnly?: string }).bundleOnly !== undefined) && m.protocol.includes('RTP'),
    line: { type: m.type, protocol: m.protocol, payloads: String(m.payloads ?? '') },
  };
}
