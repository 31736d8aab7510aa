// The output page's URL (/output?room=R&peer=NAME[&token=][&fit=][&bg=][&audio=1])
// and the link to it that the call's tiles copy. Pure.
import { RoomId } from '@guise/shared';

export interface OutputParams {
  room: string;
  peer: string;
  token: string | undefined;
  /** cover fills the frame (cropping), contain shows the whole picture (bars). */
  fit: 'cover' | 'contain';
  /** transparent lets an OBS scene show through the bars and while waiting. */
  bg: 'black' | 'transparent';
  audio: boolean;
}

export type OutputParamsResult = { ok: true; params: OutputParams } | { ok: false; problem: string };

export function parseOutputParams(search: string): OutputParamsResult {
  const q = new URLSearchParams(search);
  const room = q.get('room') ?? '';
  const peer = (q.get('peer') ?? '').trim();
  if (!RoomId.safeParse(room).success) return { ok: false, problem: 'add ?room=ROOM (letters, digits, "-" or "_") to the address' };
  if (!peer) return { ok: false, problem: 'add &peer=NAME (the participant to show) to the address' };
  const fit = q.get('fit') === 'contain' ? 'contain' : 'cover';
  const bg = q.get('bg') === 'transparent' ? 'transparent' : 'black';
  const token = q.get('token') || undefined;
  return { ok: true, params: { room, peer, token, fit, bg, audio: q.get('audio') === '1' } };
}

/** The link a tile's "Copy output link" copies: full-bleed, no audio, unless the person edits it. */
export function outputLink(base: string, room: string, peer: string, token?: string): string {
  const q = new URLSearchParams({ room, peer, ...(token ? { token } : {}) });
  return `${new URL('/output', base).href}?${q.toString()}`;
}

/** The WHEP endpoint for the page's participant. */
export const whepEndpoint = (origin: string, room: string, peer: string) =>
  `${origin}/whep/${encodeURIComponent(room)}/${encodeURIComponent(peer)}`;

/** Seconds to wait before the n-th retry in a row (0-based): quick at first, then every 5 s. */
export const retryDelayMs = (attempt: number) => Math.min(5000, 500 * 2 ** attempt);
