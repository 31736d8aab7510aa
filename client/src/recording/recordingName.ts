// What a recording is called and how long it has run, as the person sees it. Pure.

/** guise-<room>-<YYYY-MM-DD>_<HH-MM-SS>.webm, in local time: sorts by time, and says which call. */
export function recordingName(room: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}`;
  const time = `${p(at.getHours())}-${p(at.getMinutes())}-${p(at.getSeconds())}`;
  return `guise-${room.replace(/[^A-Za-z0-9_-]/g, '_')}-${day}_${time}.webm`;
}

/** m:ss (or h:mm:ss) for a timer. */
export function elapsedLabel(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
