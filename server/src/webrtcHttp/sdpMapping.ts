// From an offered m-section to mediasoup's terms, and back to the answer's
// m-section. Ingest (WHIP): the first offered codec the router has becomes a
// producer's RTP parameters. Egress (WHEP): the offered codecs become the RTP
// capabilities a consumer is made for, so its payload types and extension
// ids are the offer's own. Pure.
import { isSameProfile } from 'h264-profile-level-id';
import type { types } from 'mediasoup';
import type { OfferedCodec, OfferedMedia } from './sdpOffer.ts';

/** What one accepted m-line of the answer says: its direction, codecs and extensions, and for a sender its SSRCs. */
export interface AcceptedSection {
  direction: 'recvonly' | 'sendonly';
  codecs: types.RtpCodecParameters[];
  headerExtensions: { id: number; uri: string }[];
  /** Egress only: what the client will receive. */
  send?: { ssrc: number; rtxSsrc: number | undefined; cname: string; streamId: string; trackId: string };
}

const mimeOf = (kind: string, c: OfferedCodec) => `${kind}/${c.name}`.toLowerCase();

/** Whether the router can take `codec` as offered (name, clock, channels; for H.264 the packetization mode and profile). */
function routerCodecFor(kind: types.MediaKind, codec: OfferedCodec, caps: types.RtpCapabilities): types.RtpCodecCapability | undefined {
  return caps.codecs?.find((rc) => {
    if (rc.kind !== kind || rc.mimeType.toLowerCase() !== mimeOf(kind, codec) || rc.clockRate !== codec.clockRate) return false;
    if (kind === 'audio' && (rc.channels ?? 1) !== (codec.channels ?? 1)) return false;
    if (codec.name.toLowerCase() === 'h264') {
      const mode = Number(codec.parameters['packetization-mode'] ?? 0);
      return mode === Number(rc.parameters?.['packetization-mode'] ?? 0) && isSameProfile(rc.parameters, codec.parameters);
    }
    return true;
  });
}

/**
 * A WHIP m-section as a producer: its kind and RTP parameters, and what the
 * answer says; undefined when the router has none of the offered codecs (the
 * m-line is then rejected).
 */
export function ingestSection(media: OfferedMedia, caps: types.RtpCapabilities): { kind: types.MediaKind; rtpParameters: types.RtpParameters; answer: AcceptedSection } | undefined {
  if (!media.usable || media.direction === 'recvonly' || media.direction === 'inactive') return undefined;
  const isMedia = (c: OfferedCodec) => !['rtx', 'red', 'ulpfec', 'flexfec-03', 'cn', 'telephone-event'].includes(c.name.toLowerCase());
  let chosen: { codec: OfferedCodec; router: types.RtpCodecCapability } | undefined;
  for (const codec of media.codecs.filter(isMedia)) {
    const router = routerCodecFor(media.kind, codec, caps);
    if (router) { chosen = { codec, router }; break; }
  }
  if (!chosen) return undefined;
  const { codec, router } = chosen;
  // Feedback both sides know: the client may then send on NACK, PLI and transport-wide CC.
  const feedback = codec.rtcpFeedback.filter((fb) => router.rtcpFeedback?.some((r) => r.type === fb.type && (r.parameter ?? '') === (fb.parameter ?? '')));
  const main: types.RtpCodecParameters = {
    mimeType: `${media.kind}/${codec.name}`,
    payloadType: codec.payloadType,
    clockRate: codec.clockRate,
    ...(media.kind === 'audio' && codec.channels ? { channels: codec.channels } : {}),
    parameters: codec.parameters,
    rtcpFeedback: feedback,
  };
  const rtx = media.kind === 'video'
    ? media.codecs.find((c) => c.name.toLowerCase() === 'rtx' && Number(c.parameters.apt) === codec.payloadType)
    : undefined;
  const codecs = rtx
    ? [main, { mimeType: 'video/rtx', payloadType: rtx.payloadType, clockRate: rtx.clockRate, parameters: { apt: codec.payloadType }, rtcpFeedback: [] }]
    : [main];
  const known = new Set((caps.headerExtensions ?? []).filter((h) => h.kind === media.kind).map((h) => h.uri as string));
  const headerExtensions = media.extensions.filter((e) => known.has(e.uri) && e.id >= 1 && e.id <= 14);
  const encoding: types.RtpEncodingParameters = media.ssrc === undefined ? {} : {
    ssrc: media.ssrc,
    ...(rtx && media.rtxSsrc !== undefined ? { rtx: { ssrc: media.rtxSsrc } } : {}),
  };
  return {
    kind: media.kind,
    rtpParameters: {
      mid: media.mid,
      codecs,
      headerExtensions: headerExtensions.map((e) => ({ uri: e.uri as types.RtpHeaderExtensionUri, id: e.id })),
      encodings: [encoding],
      rtcp: { ...(media.cname ? { cname: media.cname } : {}), reducedSize: true },
    },
    answer: { direction: 'recvonly', codecs, headerExtensions },
  };
}

/** A WHEP m-section as the RTP capabilities to consume with: every offered codec and extension, at the offer's ids. */
export function egressCapabilities(media: OfferedMedia): types.RtpCapabilities {
  return {
    codecs: media.codecs.map((c) => ({
      kind: media.kind,
      mimeType: `${media.kind}/${c.name}`,
      preferredPayloadType: c.payloadType,
      clockRate: c.clockRate,
      ...(media.kind === 'audio' ? { channels: c.channels ?? 1 } : {}),
      parameters: c.parameters,
      rtcpFeedback: c.rtcpFeedback,
    })),
    headerExtensions: media.extensions.map((e) => ({
      kind: media.kind,
      uri: e.uri as types.RtpHeaderExtensionUri,
      preferredId: e.id,
      direction: 'sendrecv' as const,
    })),
  };
}

/**
 * The codecs of a WHEP viewer's own router: each of the source's codecs at the
 * payload type the player's offer gave it (mediasoup consumers send their
 * router's payload types, and a player decodes only those it offered).
 * Codecs the offer lacks are left out; so is RTX, whose payload type mediasoup
 * picks itself.
 */
export function egressRouterCodecs(producers: { kind: types.MediaKind; rtpParameters: types.RtpParameters }[], offered: OfferedMedia[]): types.RouterRtpCodecCapability[] {
  const out: types.RouterRtpCodecCapability[] = [];
  for (const p of producers) {
    const main = p.rtpParameters.codecs.find((c) => !c.mimeType.toLowerCase().endsWith('/rtx'));
    if (!main) continue;
    const own: types.RtpCodecCapability = { kind: p.kind, mimeType: main.mimeType, clockRate: main.clockRate, preferredPayloadType: main.payloadType, ...(main.channels ? { channels: main.channels } : {}), parameters: main.parameters ?? {} };
    for (const m of offered.filter((o) => o.kind === p.kind)) {
      const codec = m.codecs.find((c) => routerCodecFor(p.kind, c, { codecs: [own] }));
      if (!codec) continue;
      if (!out.some((o) => o.mimeType.toLowerCase() === main.mimeType.toLowerCase() && o.preferredPayloadType === codec.payloadType)) {
        out.push({ kind: p.kind, mimeType: main.mimeType as types.RouterRtpCodecCapability['mimeType'], clockRate: main.clockRate, preferredPayloadType: codec.payloadType, ...(main.channels ? { channels: main.channels } : {}), parameters: main.parameters ?? {} });
      }
      break;
    }
  }
  return out;
}

/** Whether a WHEP m-section can carry media to the client. */
export const receivesMedia = (media: OfferedMedia) => media.usable && (media.direction === 'recvonly' || media.direction === 'sendrecv');

/** The answer's m-section for a consumer made from `egressCapabilities`. */
export function egressSection(consumer: { id: string; rtpParameters: types.RtpParameters }, streamId: string): AcceptedSection {
  const { codecs, headerExtensions = [], encodings = [], rtcp } = consumer.rtpParameters;
  const encoding = encodings[0];
  if (encoding?.ssrc === undefined) throw new Error('a consumer without an SSRC');
  return {
    direction: 'sendonly',
    codecs,
    headerExtensions: headerExtensions.map((h) => ({ id: h.id, uri: h.uri })),
    send: { ssrc: encoding.ssrc, rtxSsrc: encoding.rtx?.ssrc, cname: rtcp?.cname ?? streamId, streamId, trackId: consumer.id },
  };
}
