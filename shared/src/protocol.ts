// The signaling protocol: every message a client sends, every ack it gets back
// and every notification the server pushes. Client and server both validate
// against these schemas, so a message is checked once, at the edge.
import { z } from 'zod';

/** Room names appear in links; keep them URL-safe and short. */
export const RoomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'room must be 1-64 letters, digits, "-" or "_"');
export const DisplayName = z.string().trim().min(1, 'name is empty').max(40, 'name is longer than 40 characters');
export const Id = z.string().min(1).max(100);
export const MediaKind = z.enum(['audio', 'video']);
export const Direction = z.enum(['send', 'recv']);

/**
 * What a producer declares about itself. Receivers get it with `newProducer`;
 * `synthetic` drives the "synthetic video" disclosure badge.
 */
export const ProducerAppData = z.strictObject({
  source: z.enum(['camera', 'mic']),
  synthetic: z.boolean(),
  identityLabel: z.string().min(1).max(64).optional(),
});
export type ProducerAppData = z.infer<typeof ProducerAppData>;

// mediasoup validates RTP/DTLS structures in depth (and throws, which the
// handler turns into an error ack); here we only bound their shape and size.
const Json = z.looseObject({});
const RtpCapabilities = z.looseObject({ codecs: z.array(Json).max(64), headerExtensions: z.array(Json).max(64).optional() });
const RtpParameters = z.looseObject({ codecs: z.array(Json).min(1).max(16), encodings: z.array(Json).max(8).optional() });
const DtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.strictObject({ algorithm: z.string().max(16), value: z.string().max(200) })).min(1).max(8),
});

/** Client → server requests, each answered by an ack. */
export const requests = {
  join: z.strictObject({ room: RoomId, displayName: DisplayName }),
  createTransport: z.strictObject({ direction: Direction }),
  connectTransport: z.strictObject({ transportId: Id, dtlsParameters: DtlsParameters }),
  produce: z.strictObject({ transportId: Id, kind: MediaKind, rtpParameters: RtpParameters, appData: ProducerAppData }),
  consume: z.strictObject({ transportId: Id, producerId: Id, rtpCapabilities: RtpCapabilities }),
  resumeConsumer: z.strictObject({ consumerId: Id }),
  pauseProducer: z.strictObject({ producerId: Id }),
  resumeProducer: z.strictObject({ producerId: Id }),
  closeProducer: z.strictObject({ producerId: Id }),
  /** The disclosure changed (identity switched, or the swap turned off) without renegotiating the track. */
  updateProducer: z.strictObject({ producerId: Id, appData: ProducerAppData }),
  leave: z.strictObject({}),
} as const;
export type RequestName = keyof typeof requests;
export type RequestData<N extends RequestName> = z.infer<(typeof requests)[N]>;
export const requestNames = Object.keys(requests) as RequestName[];
export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}

export interface PeerInfo { id: string; displayName: string }
export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: z.infer<typeof MediaKind>;
  paused: boolean;
  appData: ProducerAppData;
}
export interface TransportOptions {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
}
export interface ConsumerOptions {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: z.infer<typeof MediaKind>;
  rtpParameters: unknown;
  producerPaused: boolean;
  appData: ProducerAppData;
}

/** What each request's ack carries on success. */
export interface Responses {
  join: { peerId: string; rtpCapabilities: unknown; peers: PeerInfo[]; producers: ProducerInfo[] };
  createTransport: TransportOptions;
  connectTransport: Record<string, never>;
  produce: { producerId: string };
  consume: ConsumerOptions;
  resumeConsumer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  closeProducer: Record<string, never>;
  updateProducer: Record<string, never>;
  leave: Record<string, never>;
}

export const errorCodes = [
  'bad_request', // the message failed its schema
  'unknown_request', // no such request name
  'not_joined', // the request needs a joined room
  'already_joined',
  'not_found', // no such transport, producer or consumer in this room
  'room_closed',
  'media_error', // mediasoup refused the parameters
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** Server → client notifications, named by what happened. */
export interface Notifications {
  peerJoined: PeerInfo;
  peerLeft: { peerId: string };
  newProducer: ProducerInfo;
  producerClosed: { producerId: string; peerId: string };
  producerPaused: { producerId: string; peerId: string };
  producerResumed: { producerId: string; peerId: string };
  producerUpdated: { producerId: string; peerId: string; appData: ProducerAppData };
  /** The room is gone (its media worker died, or the server is stopping); rejoin to continue. */
  roomClosed: { reason: 'media_worker_died' | 'server_shutdown' };
}
export type NotificationName = keyof Notifications;
