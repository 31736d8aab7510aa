// Which node the call's signaling goes to after a `moved` answer or a lost node.
import { describe, expect, it } from 'vitest';
import { NodeRoute, QUICK_MOVES, SLOW_MOVE_MS } from '../src/call/nodeRoute.ts';

const A = 'http://a.test:3000';
const B = 'http://b.test:3001';
const C = 'http://c.test:3002';

describe('NodeRoute', () => {
  it('one server: stays home and is not a cluster', () => {
    const r = new NodeRoute(A);
    r.joined(undefined);
    expect([r.url, r.atHome, r.inCluster]).toEqual([A, true, false]);
  });

  it('follows a move to the node holding the room, as an origin, and refuses what is not http(s)', () => {
    const r = new NodeRoute(A);
    expect(r.moved(`${B}/some/path?x=1`)).toBe(B);
    expect([r.url, r.atHome, r.inCluster]).toEqual([B, false, true]);
    expect(r.moved('javascript:alert(1)')).toBeUndefined();
    expect(r.moved('not a url')).toBeUndefined();
    expect(r.moved(B)).toBeUndefined(); // sent to where it already is: a misconfigured node, not a move
    expect(r.url).toBe(B);
  });

  it('after losing a node, tries the next known one round the ring, home first', () => {
    const r = new NodeRoute(A);
    r.moved(B);
    r.joined([A, B, C]);
    expect(r.lost()).toBe(C); // B was lost; the ring is A, B, C
    expect(r.lost()).toBe(A);
    expect(r.lost()).toBe(B);
    const home = new NodeRoute(A);
    home.joined([A, B]);
    expect(home.lost()).toBe(B); // the page's own server died
  });

  it('moves at once, then pauses between moves that keep failing, until a join succeeds', () => {
    const r = new NodeRoute(A);
    r.joined([A, B]);
    for (let i = 0; i < QUICK_MOVES; i++) { r.lost(); expect(r.delayMs).toBe(0); }
    r.moved(r.url === A ? B : A);
    expect(r.delayMs).toBe(SLOW_MOVE_MS);
    r.joined([A, B]);
    expect(r.delayMs).toBe(0);
  });

  it('after the call, the next one starts at home', () => {
    const r = new NodeRoute(A);
    r.moved(B);
    r.reset();
    expect([r.url, r.atHome]).toEqual([A, true]);
  });
});
