// Puts a MediaStream into a <video>/<audio> element and starts it. Browsers
// may refuse to start sound without a click (autoplay policy, e.g. after an
// autojoin link); those elements wait here until resumePlayback() runs from a
// click handler.
import type { Attachment } from 'svelte/attachments';
import { writable } from 'svelte/store';

const blocked = new Set<HTMLMediaElement>();
export const playbackBlocked = writable(false);

function refresh(): void {
  playbackBlocked.set(blocked.size > 0);
}

function play(el: HTMLMediaElement): void {
  el.play().then(
    () => { if (blocked.delete(el)) refresh(); },
    (err: unknown) => {
      // AbortError: the stream was replaced mid-start; the next play() covers it.
      if ((err as { name?: string })?.name === 'NotAllowedError' && el.srcObject) {
        blocked.add(el);
        refresh();
      }
    },
  );
}

/** `{@attach srcObject(stream)}`: re-runs whenever `stream` changes. */
export function srcObject(stream: MediaStream | null): Attachment<HTMLMediaElement> {
  return (el) => {
    el.srcObject = stream;
    if (stream?.getTracks().length) play(el);
    return () => {
      el.srcObject = null;
      if (blocked.delete(el)) refresh();
    };
  };
}

export function resumePlayback(): void {
  for (const el of [...blocked]) play(el);
}

/**
 * Makes `stream` hold exactly `tracks`. A tile keeps one stream for its whole
 * life and mutates it: a new srcObject would restart playback (a black flash)
 * every time a peer's audio or video arrives. Returns whether anything changed.
 */
export function syncTracks(stream: MediaStream, tracks: (MediaStreamTrack | null)[]): boolean {
  const want = new Set(tracks.filter((t): t is MediaStreamTrack => t !== null));
  let changed = false;
  for (const t of stream.getTracks()) if (!want.has(t)) { stream.removeTrack(t); changed = true; }
  for (const t of want) if (!stream.getTrackById(t.id)) { stream.addTrack(t); changed = true; }
  return changed;
}

/** After tracks were added to a playing element's stream: make sure it plays. */
export function replay(el: HTMLMediaElement | undefined): void {
  if (el?.srcObject && (el.srcObject as MediaStream).getTracks().length > 0) play(el);
}

/**
 * `{@attach muted}`: Svelte sets `muted` only as a property; defaultMuted also
 * writes the attribute, so the markup says what the element does (and
 * `video[muted]` selectors match).
 */
export const muted: Attachment<HTMLMediaElement> = (el) => {
  el.defaultMuted = true;
  el.muted = true;
};

export function streamOf(...tracks: (MediaStreamTrack | null)[]): MediaStream | null {
  const present = tracks.filter((t): t is MediaStreamTrack => t !== null);
  return present.length ? new MediaStream(present) : null;
}
