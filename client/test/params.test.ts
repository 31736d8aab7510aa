import { describe, expect, it } from 'vitest';
import { parseParams, randomRoomName, roomLink, sanitizeRoom, withoutToken } from '../src/app/params.ts';

describe('parseParams', () => {
  it('reads a join token from an invite link, and bounds its size', () => {
    expect(parseParams('?room=r&token=eyJhbGciOiJIUzI1NiJ9.e30.sig').token).toBe('eyJhbGciOiJIUzI1NiJ9.e30.sig');
    expect(parseParams(`?room=r&token=${'x'.repeat(5000)}`).token).toBeNull();
    expect(parseParams('?room=r&token=').token).toBeNull();
  });

  it('reads relay=1 as media through the TURN relay only', () => {
    expect(parseParams('?relay=1').relay).toBe(true);
    expect(parseParams('?relay=0').relay).toBe(false);
  });

  it('drops the token from the address, keeping everything else', () => {
    expect(withoutToken('https://guise.example/?room=r&token=abc.def.ghi&name=Ada#x')).toBe('https://guise.example/?room=r&name=Ada#x');
    expect(withoutToken('https://guise.example/?room=r')).toBe('https://guise.example/?room=r');
  });

  it('reads room, name and autojoin', () => {
    expect(parseParams('?room=standup&name=Ada%20L&autojoin=1')).toEqual({ room: 'standup', name: 'Ada L', autojoin: true, identity: null, fallbackPipeline: false, gpuLandmarks: false, engine: null, token: null, relay: false });
  });

  it('treats missing or empty values as absent', () => {
    expect(parseParams('')).toEqual({ room: null, name: null, autojoin: false, identity: null, fallbackPipeline: false, gpuLandmarks: false, engine: null, token: null, relay: false });
    expect(parseParams('?room=&name=%20%20&autojoin=0')).toEqual({ room: null, name: null, autojoin: false, identity: null, fallbackPipeline: false, gpuLandmarks: false, engine: null, token: null, relay: false });
  });

  it('reads a starting identity and the fallback-pipeline switch, refusing anything but a sample name', () => {
    expect(parseParams('?identity=sample:astronaut&pipeline=canvas&landmarks=gpu'))
      .toMatchObject({ identity: 'sample:astronaut', fallbackPipeline: true, gpuLandmarks: true });
    expect(parseParams('?identity=upload:1').identity).toBeNull();
    expect(parseParams('?identity=sample:<script>').identity).toBeNull();
  });

  it('shapes the room into a name the server accepts and bounds the name', () => {
    const p = parseParams(`?room=${encodeURIComponent(' my room/é! ')}&name=${'x'.repeat(50)}&autojoin=true`);
    expect(p.room).toBe('my-room');
    expect(p.name).toHaveLength(40);
    expect(p.autojoin).toBe(true);
  });
});

describe('sanitizeRoom', () => {
  it('keeps letters, digits, "-" and "_", turns spaces into "-", caps the length', () => {
    expect(sanitizeRoom('Team_A standup 2')).toBe('Team_A-standup-2');
    expect(sanitizeRoom('a?b#c')).toBe('abc');
    expect(sanitizeRoom('r'.repeat(100))).toHaveLength(64);
    // Typing "my " must not lose the space before the next word arrives.
    expect(sanitizeRoom('my ')).toBe('my-');
  });
});

describe('randomRoomName', () => {
  it('makes adjective-noun-digits names that need no sanitizing', () => {
    const name = randomRoomName();
    expect(name).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);
    expect(sanitizeRoom(name)).toBe(name);
  });

  it('stays in range when random() returns its extremes', () => {
    expect(randomRoomName(() => 0)).toMatch(/^[a-z]+-[a-z]+-0000$/);
    expect(randomRoomName(() => 0.9999999)).toMatch(/^[a-z]+-[a-z]+-9999$/);
  });
});

describe('roomLink', () => {
  it('keeps only ?room= on the current page', () => {
    expect(roomLink('https://guise.example/?room=old&name=Ada&autojoin=1#x', 'new-room'))
      .toBe('https://guise.example/?room=new-room');
    expect(roomLink('http://localhost:5173/app/', 'r_1')).toBe('http://localhost:5173/app/?room=r_1');
  });
});
