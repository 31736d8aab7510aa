// The page's URL: what it asks for (room, name, autojoin) and the link to share.
import { JoinToken, MAX_NAME_LENGTH, MAX_ROOM_LENGTH, notInRoomId } from '@guise/shared';

export { MAX_NAME_LENGTH } from '@guise/shared';

export interface LaunchParams {
  room: string | null;
  name: string | null;
  /** Join without waiting for a click (links from automation, bookmarks). */
  autojoin: boolean;
  /** A face to start with, e.g. `sample:astronaut` (for links and automation). */
  identity: string | null;
  /** Force the canvas fallback pipeline even where insertable streams exist (testing). */
  fallbackPipeline: boolean;
  /** Run FaceLandmarker on its GPU (WebGL) delegate instead of the CPU. */
  gpuLandmarks: boolean;
  /** A swap engine to start with. */
  engine: 'mesh' | 'idn' | null;
  /** Send media only through the server's TURN relay (`&relay=1`). */
  relay: boolean;
  /** A join token from an invite link; the server checks it (JoinToken bounds only its size). */
  token: string | null;
}

export function parseParams(search: string): LaunchParams {
  const q = new URLSearchParams(search);
  const room = sanitizeRoom((q.get('room') ?? '').trim());
  const name = (q.get('name') ?? '').trim().slice(0, MAX_NAME_LENGTH);
  const autojoin = ['1', 'true', 'yes'].includes((q.get('autojoin') ?? '').toLowerCase());
  const identity = /^sample:[a-z0-9-]{1,40}$/.exec(q.get('identity') ?? '')?.[0] ?? null;
  const fallbackPipeline = q.get('pipeline') === 'canvas';
  const gpuLandmarks = q.get('landmarks') === 'gpu';
  const engineParam = q.get('engine');
  const engine = engineParam === 'mesh' || engineParam === 'idn' ? engineParam : null;
  const token = JoinToken.safeParse(q.get('token') ?? '');
  return {
    room: room || null, name: name || null, autojoin, identity, fallbackPipeline, gpuLandmarks, engine,
    token: token.success ? token.data : null,
    relay: ['1', 'true', 'yes'].includes((q.get('relay') ?? '').toLowerCase()),
  };
}

/**
 * `href` without its `token` parameter: read once, then kept out of the
 * address bar, the history and anything that copies the page's URL.
 */
export function withoutToken(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('token');
  return url.toString();
}

/**
 * Shapes typed text into a room name the server accepts: spaces become "-",
 * anything else the name may not contain is dropped. The server still has the
 * final word; this only keeps people from typing a broken link.
 */
export function sanitizeRoom(input: string): string {
  return input
    .replace(/\s+/g, '-')
    .replace(notInRoomId, '')
    .slice(0, MAX_ROOM_LENGTH);
}

const adjectives = ['amber', 'brisk', 'calm', 'dusky', 'eager', 'fuzzy', 'gentle', 'hazy', 'jolly', 'lucky', 'mellow', 'nimble', 'quiet', 'rapid', 'sunny', 'witty'];
const nouns = ['otter', 'falcon', 'maple', 'comet', 'harbor', 'lynx', 'meadow', 'pebble', 'quartz', 'raven', 'willow', 'tiger', 'canyon', 'ember', 'koala', 'lagoon'];

/** A friendly, hard-to-guess-by-accident room name such as "quiet-otter-4821". */
export function randomRoomName(random: () => number = Math.random): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length) % list.length]!;
  const digits = String(Math.floor(random() * 10_000)).padStart(4, '0');
  return `${pick(adjectives)}-${pick(nouns)}-${digits}`;
}

/** The link that brings someone else into `room`: this page with only ?room=. */
export function roomLink(href: string, room: string): string {
  const url = new URL(href);
  url.search = '';
  url.hash = '';
  url.searchParams.set('room', room);
  return url.toString();
}
