import { describe, expect, it } from 'vitest';
import { outputLink, parseOutputParams, retryDelayMs, whepEndpoint } from '../src/output/outputParams.ts';
import { loadDisclosureMark, saveDisclosureMark } from '../src/app/storage.ts';

describe('output page parameters', () => {
  it('reads room, peer, token and the display options, with cover/black/no audio by default', () => {
    expect(parseOutputParams('?room=standup&peer=Ada')).toEqual({
      ok: true, params: { room: 'standup', peer: 'Ada', token: undefined, fit: 'cover', bg: 'black', audio: false },
    });
    expect(parseOutputParams('?room=r&peer=Ada%20L&token=a.b.c&fit=contain&bg=transparent&audio=1')).toEqual({
      ok: true, params: { room: 'r', peer: 'Ada L', token: 'a.b.c', fit: 'contain', bg: 'transparent', audio: true },
    });
    // Unknown values fall back to the defaults rather than failing the page.
    expect(parseOutputParams('?room=r&peer=A&fit=stretch&bg=red&audio=yes')).toMatchObject({ ok: true, params: { fit: 'cover', bg: 'black', audio: false } });
  });

  it('says what is missing from the address', () => {
    expect(parseOutputParams('?peer=Ada')).toMatchObject({ ok: false, problem: expect.stringMatching(/room=/) });
    expect(parseOutputParams('?room=a/b&peer=Ada')).toMatchObject({ ok: false });
    expect(parseOutputParams('?room=r&peer=%20')).toMatchObject({ ok: false, problem: expect.stringMatching(/peer=/) });
  });

  it('makes the link a tile copies, and the page reads it back', () => {
    const link = outputLink('https://guise.example/?room=r&name=Bo', 'r', 'Ada Lovelace', 'a.b.c');
    expect(link).toBe('https://guise.example/output?room=r&peer=Ada+Lovelace&token=a.b.c');
    expect(parseOutputParams(new URL(link).search)).toMatchObject({ ok: true, params: { room: 'r', peer: 'Ada Lovelace', token: 'a.b.c' } });
    expect(outputLink('http://localhost:3000', 'r', 'Ada')).toBe('http://localhost:3000/output?room=r&peer=Ada');
  });

  it('names the WHEP endpoint with escaped parts, and backs off to 5 s between retries', () => {
    expect(whepEndpoint('http://h', 'r', 'Ada L/x')).toBe('http://h/whep/r/Ada%20L%2Fx');
    expect([0, 1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });
});

describe('the disclosure mark choice', () => {
  it('is on unless turned off, and the choice is remembered', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
    expect(loadDisclosureMark(storage)).toBe(true);
    saveDisclosureMark(false, storage);
    expect(loadDisclosureMark(storage)).toBe(false);
    saveDisclosureMark(true, storage);
    expect(loadDisclosureMark(storage)).toBe(true);
    // Storage that throws (privacy modes) keeps the mark on.
    expect(loadDisclosureMark({ getItem: () => { throw new Error('denied'); } })).toBe(true);
  });
});
