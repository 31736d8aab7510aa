// Cheap checks on a producer's RTP parameters that mediasoup does not make:
// values that are legal JSON but no browser sends, and that would otherwise
// be relayed to every receiver (a 255+ character CNAME). Pure.

export const MAX_CNAME_LENGTH = 255;

interface RtpShape {
  codecs?: { payloadType?: unknown; rtx?: unknown }[];
  encodings?: { ssrc?: unknown; rtx?: { ssrc?: unknown } }[];
  rtcp?: { cname?: unknown };
}

/** The first problem found, or undefined. */
export function rtpParametersProblem(params: unknown): string | undefined {
  const p = params as RtpShape;
  for (const codec of p.codecs ?? []) {
    const pt = codec.payloadType;
    if (typeof pt === 'number' && !(Number.isInteger(pt) && pt >= 0 && pt <= 127)) return `payload type ${pt} is outside 0-127`;
  }
  for (const encoding of p.encodings ?? []) {
    for (const ssrc of [encoding.ssrc, encoding.rtx?.ssrc]) {
      if (ssrc === 0) return 'ssrc 0 is not allowed';
    }
  }
  const cname = p.rtcp?.cname;
  if (typeof cname === 'string' && cname.length > MAX_CNAME_LENGTH) return `RTCP CNAME is longer than ${MAX_CNAME_LENGTH} characters`;
  return undefined;
}
