// The signaling protocol: every message a client sends, every ack it gets back
// and every notification the server pushes. The server validates requests and
// the client validates answers and notifications against these schemas, so a
// message is checked once, at the edge where it arrives. The types are inferred
// from the schemas; there is no second, hand-written copy.
import { z } from 'zod';
import type {
  DtlsParameters as MsDtlsParameters, IceCandidate as MsIceCandidate, IceParameters as MsIceParameters,
  RtpCapabilities as MsRtpCapabilities, RtpParameters as MsRtpParameters,
} from 'mediasoup-client/types';

// Room names appear in links; keep them URL-safe and short.
export const MAX_ROOM_LENGTH = 64;
const roomIdCharacters = 'A-Za-z0-9_-'; // the inside of a regex character class
export const RoomId = z.string().regex(
  new RegExp(`^[${roomIdCharacters}]{1,${MAX_ROOM_LENGTH}}$`),
  `room must be 1-${MAX_ROOM_LENGTH} letters, digits, "-" or "_"`,
);
/** Matches every character a room name may not contain. */
export const notInRoomId = new RegExp(`[^${roomIdCharacters}]`, 'g');

export const MAX_NAME_LENGTH = 40;
export const DisplayName = z.string().trim()
  .min(1, 'name is empty')
  .max(MAX_NAME_LENGTH, `name is longer than ${MAX_NAME_LENGTH} characters`);
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

// RTP, ICE and DTLS structures have the types mediasoup-client declares for
// them (imported as types only: none of mediasoup-client runs on the server).
// Zod only bounds their shape and size; the library that receives them
// validates them in depth (mediasoup on the server, mediasoup-client in the
// page) and throws on what it refuses, which becomes an error the caller sees.
const mediasoupShape = <T>(bounds: z.ZodType) => bounds.pipe(z.custom<T>());
const Json = z.looseObject({});
export const RtpCapabilities = mediasoupShape<MsRtpCapabilities>(z.looseObject({
  codecs: z.array(Json).max(64).optional(),
  headerExtensions: z.array(Json).max(64).optional(),
}));
export const RtpParameters = mediasoupShape<MsRtpParameters>(z.looseObject({
  codecs: z.array(Json).min(1).max(16),
  encodings: z.array(Json).max(8).optional(),
}));
export type RtpCapabilities = z.infer<typeof RtpCapabilities>;
export type RtpParameters = z.infer<typeof RtpParameters>;
export const DtlsParameters = mediasoupShape<MsDtlsParameters>(z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.strictObject({ algorithm: z.string().max(16), value: z.string().max(200) })).min(1).max(8),
}));
export const IceParameters = mediasoupShape<MsIceParameters>(z.looseObject({ usernameFragment: z.string(), password: z.string() }));
export const IceCandidate = mediasoupShape<MsIceCandidate>(z.looseObject({
  foundation: z.string(),
  priority: z.number(),
  address: z.string(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number(),
}));

/** A signed join token (JWT); required when the server has GUISE_AUTH_SECRET set. */
export const JoinToken = z.string().min(1).max(4096);
export const MAX_INVITE_TTL_SECONDS = 7 * 86400;

/** Client → server requests, each answered by an ack. */
export const requests = {
  join: z.strictObject({ room: RoomId, displayName: DisplayName, token: JoinToken.optional() }),
  createTransport: z.strictObject({ direction: Direction }),
  connectTransport: z.strictObject({ transportId: Id, dtlsParameters: DtlsParameters }),
  // Video is the camera and audio the mic, so every video producer carries the synthetic declaration the badge shows.
  produce: z.strictObject({ transportId: Id, kind: MediaKind, rtpParameters: RtpParameters, appData: ProducerAppData })
    .refine((d) => (d.kind === 'video') === (d.appData.source === 'camera'), {
      message: 'a video producer\'s source is camera, an audio producer\'s mic', path: ['appData', 'source'],
    }),
  consume: z.strictObject({ transportId: Id, producerId: Id, rtpCapabilities: RtpCapabilities }),
  resumeConsumer: z.strictObject({ consumerId: Id }),
  pauseProducer: z.strictObject({ producerId: Id }),
  resumeProducer: z.strictObject({ producerId: Id }),
  closeProducer: z.strictObject({ producerId: Id }),
  /** The disclosure changed (identity switched, or the swap turned off) without renegotiating the track. */
  updateProducer: z.strictObject({ producerId: Id, appData: ProducerAppData }),
  /** A room admin mints a guest invite to the room it is in (the Copy-invite button). */
  createInvite: z.strictObject({ ttlSeconds: z.number().int().min(60).max(MAX_INVITE_TTL_SECONDS).optional() }),
  // Host controls: a room admin acts on another peer, or on the room.
  /** Removes a peer from the room (it may come back with its token unless the room is locked). */
  removePeer: z.strictObject({ peerId: Id }),
  /** Pauses a peer's microphone (audio) or camera (video) producer; its owner is told and may unmute. */
  mutePeer: z.strictObject({ peerId: Id, kind: MediaKind }),
  /** A locked room refuses every new join except a room admin's (`room_locked`). */
  lockRoom: z.strictObject({ locked: z.boolean() }),
  leave: z.strictObject({}),
} as const;
export type RequestName = keyof typeof requests;
export type RequestData<N extends RequestName> = z.infer<(typeof requests)[N]>;
export const requestNames = Object.keys(requests) as RequestName[];
export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}

// Answers and notifications come from the server. Their objects are not
// strict: a newer server may add a field, and an older client ignores it.
export const PeerInfo = z.object({ id: Id, displayName: DisplayName });
/** A TURN server with time-limited credentials (coturn's REST scheme), for RTCPeerConnection's iceServers. */
export const IceServer = z.object({
  urls: z.array(z.string().max(512)).min(1).max(8),
  username: z.string().max(256),
  credential: z.string().max(256),
});
export type IceServer = z.infer<typeof IceServer>;
/** What a peer may do in its room: its token's grants, or all but roomAdmin in an open room. */
export const Grants = z.object({ canPublish: z.boolean(), canSubscribe: z.boolean(), roomAdmin: z.boolean() });
export type Grants = z.infer<typeof Grants>;
export type PeerInfo = z.infer<typeof PeerInfo>;
export const ProducerInfo = z.object({
  producerId: Id,
  peerId: Id,
  kind: MediaKind,
  paused: z.boolean(),
  appData: ProducerAppData,
});
export type ProducerInfo = z.infer<typeof ProducerInfo>;
export const TransportOptions = z.object({
  id: Id,
  iceParameters: IceParameters,
  iceCandidates: z.array(IceCandidate).max(16),
  dtlsParameters: DtlsParameters,
});
export type TransportOptions = z.infer<typeof TransportOptions>;
export const ConsumerOptions = z.object({
  consumerId: Id,
  producerId: Id,
  peerId: Id,
  kind: MediaKind,
  rtpParameters: RtpParameters,
  producerPaused: z.boolean(),
  appData: ProducerAppData,
});
export type ConsumerOptions = z.infer<typeof ConsumerOptions>;
const Done = z.object({});

/** What each request's ack carries on success. */
export const responses = {
  join: z.object({
    peerId: Id, rtpCapabilities: RtpCapabilities, peers: z.array(PeerInfo), producers: z.array(ProducerInfo), grants: Grants.optional(),
    locked: z.boolean().optional(),
    iceServers: z.array(IceServer).max(8).optional(),
    /** In a cluster: every live node's address, for reaching the room again if this node goes away. */
    nodes: z.array(z.url({ protocol: /^https?$/ })).max(64).optional(),
  }),
  createTransport: TransportOptions,
  connectTransport: Done,
  produce: z.object({ producerId: Id }),
  consume: ConsumerOptions,
  resumeConsumer: Done,
  pauseProducer: Done,
  resumeProducer: Done,
  closeProducer: Done,
  updateProducer: Done,
  /** `url` is the ready link: the server's PUBLIC_URL (or its own address) + `/?room=R&token=T`. */
  createInvite: z.object({ token: JoinToken, url: z.string().max(8192), expiresAt: z.number().int() }),
  removePeer: Done,
  mutePeer: Done,
  lockRoom: Done,
  leave: Done,
} as const satisfies Record<RequestName, z.ZodType>;
export type Responses = { [N in RequestName]: z.infer<(typeof responses)[N]> };

export const errorCodes = [
  'bad_request', // the message failed its schema
  'unknown_request', // no such request name
  'not_joined', // the request needs a joined room
  'already_joined',
  'not_found', // no such transport, producer or consumer in this room
  'room_closed',
  'media_error', // mediasoup refused the parameters
  'media_timeout', // the media worker did not answer in time; nothing was left behind, so a retry may work
  'unauthorized', // no valid join token for this room (the server requires one)
  'forbidden', // the token's grants do not allow this
  'name_taken', // someone in the room already has this name
  'rate_limited', // too many messages too fast; the connection stays open
  'limit_reached', // a per-peer or per-connection budget is spent
  'room_locked', // a room admin locked the room: no new joins
  'moved', // cluster: another node holds (or will hold) this room; `location` is its address, join there
  'unavailable', // cluster: no node can take a new room now, or the coordinator is unreachable
  'internal',
] as const;
export const ErrorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;
/** `location` comes with `moved`: the node (an http(s) origin) to connect to and send the same join. */
export const RequestFailure = z.object({ code: ErrorCode, message: z.string(), location: z.url({ protocol: /^https?$/ }).optional() });

export type Ack<T> = { ok: true; data: T } | { ok: false; error: z.infer<typeof RequestFailure> };

const ProducerEvent = z.object({ producerId: Id, peerId: Id });

/** Why the server closed a room. */
export const RoomCloseReason = z.enum(['media_worker_died', 'server_shutdown', 'closed_by_operator']);
export type RoomCloseReason = z.infer<typeof RoomCloseReason>;

/** Server → client notifications, named by what happened. */
export const notifications = {
  peerJoined: PeerInfo,
  peerLeft: z.object({ peerId: Id }),
  newProducer: ProducerInfo,
  producerClosed: ProducerEvent,
  producerPaused: ProducerEvent,
  producerResumed: ProducerEvent,
  /** The disclosure changed mid-call; `at` is the server's clock (ms since the epoch) when it did. */
  producerUpdated: ProducerEvent.extend({ appData: ProducerAppData, at: z.number().int().nonnegative() }),
  /**
   * The room is gone (its media worker died, or the server is stopping); rejoin
   * to continue. A reason this client does not know still closes the room.
   */
  roomClosed: z.object({ reason: z.union([RoomCloseReason, z.string().min(1).max(100)]) }),
  /** A room admin removed this peer from the room; the server has already dropped it. */
  removedByHost: z.object({}),
  /** A room admin paused this peer's producer; the peer may resume it (unmute) itself. */
  mutedByHost: ProducerEvent.extend({ kind: MediaKind }),
  /** A room admin locked or unlocked the room. */
  roomLockChanged: z.object({ locked: z.boolean() }),
} as const;
export type NotificationName = keyof typeof notifications;
export type Notifications = { [N in NotificationName]: z.infer<(typeof notifications)[N]> };
export const notificationNames = Object.keys(notifications) as NotificationName[];
