import type { types } from 'mediasoup';

/** What every browser can encode (opus, VP8) and the H.264 profiles WHIP encoders such as OBS send. */
const H264_PROFILES = [
  '42e01f', // constrained baseline: OBS's WHIP offer and most hardware encoders
  '42001f', // baseline
  '4d001f', // main
  '640032', // high (x264's default profile)
];

/**
 * Every room's Router. VP8 comes before H.264, so browsers in a call keep
 * sending VP8 (mediasoup-client picks the router's first codec it shares);
 * H.264 is for WHIP publishers, and browsers receive it as they receive VP8.
 */
export const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  ...H264_PROFILES.map((profile): types.RouterRtpCodecCapability => ({
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': profile, 'level-asymmetry-allowed': 1 },
  })),
];
