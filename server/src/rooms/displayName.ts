// Display names as others see them: NFC-normalised, one space between words,
// and nothing invisible that could hide, reorder or impersonate (control,
// format (bidi overrides, zero-width), separators, lone surrogates, blank
// fillers). Pure: no I/O.
import { MAX_NAME_LENGTH } from '@guise/shared';

/** Control, format (bidi, zero-width, soft hyphen), line/paragraph separators, surrogates, and blank-looking fillers. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u;

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

export function normaliseDisplayName(raw: string): NameCheck {
  const nfc = raw.normalize('NFC');
  // Checked before spaces are collapsed: JavaScript's \s counts U+FEFF (zero-width) as a space.
  const bad = INVISIBLE.exec(nfc);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { ok: false, reason: `name contains an invisible or control character (U+${code})` };
  }
  const name = nfc.replace(/\s+/gu, ' ').trim();
  if (name.length === 0) return { ok: false, reason: 'name is empty' };
  if ([...name].length > MAX_NAME_LENGTH) return { ok: false, reason: `name is longer than ${MAX_NAME_LENGTH} characters` };
  return { ok: true, name };
}

/** Two names that look alike (compatibility forms, case) share a key; a room allows one of them. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}
