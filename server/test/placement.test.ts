// The cluster's placement and claim rules alone (no Redis): which node gets a
// new room, and what a node does with a join for a room it does not have.
import { describe, expect, it } from 'vitest';
import { chooseNode, liveNodes, type NodeLoad, parseNodeLoad, routeJoin, takesNewRooms } from '../src/cluster/placement.ts';

const node = (id: string, over: Partial<NodeLoad> = {}): NodeLoad => ({
  id, url: `http://${id}.test:3000`, rooms: 0, peers: 0, cpu: 0, cores: 2, capacity: null, draining: false, at: 1000, ...over,
});

describe('chooseNode', () => {
  it('picks the node with the fewest peers, then the fewest rooms', () => {
    expect(chooseNode([node('a', { peers: 4 }), node('b', { peers: 1 }), node('c', { peers: 2 })], 'a')?.id).toBe('b');
    expect(chooseNode([node('a', { peers: 2, rooms: 2 }), node('b', { peers: 2, rooms: 1 })], 'a')?.id).toBe('b');
  });

  it('weighs peers against each node\'s capacity', () => {
    // 10 of 100 is lighter than 5 of 10.
    expect(chooseNode([node('a', { peers: 5, capacity: 10 }), node('b', { peers: 10, capacity: 100 })], 'a')?.id).toBe('b');
  });

  it('keeps a tie on the deciding node (no redirect), else the lowest id, so all nodes agree', () => {
    expect(chooseNode([node('a'), node('b')], 'b')?.id).toBe('b');
    expect(chooseNode([node('b'), node('a')], 'z')?.id).toBe('a');
  });

  it('puts a CPU-starved node last, whatever its peer count', () => {
    expect(chooseNode([node('a', { cpu: 1.9, cores: 2 }), node('b', { peers: 12 })], 'a')?.id).toBe('b');
  });

  it('skips draining and full nodes; none left means none', () => {
    expect(chooseNode([node('a', { draining: true }), node('b', { peers: 8, capacity: 8 }), node('c', { peers: 30 })], 'a')?.id).toBe('c');
    expect(chooseNode([node('a', { draining: true }), node('b', { peers: 8, capacity: 8 })], 'a')).toBeUndefined();
    expect(takesNewRooms(node('x', { peers: 7, capacity: 8 }))).toBe(true);
  });
});

describe('routeJoin', () => {
  const a = node('a', { peers: 3 });
  const b = node('b');

  it('an unclaimed room: claimed here when this node is the best, else claimed for the best and the client sent there', () => {
    expect(routeJoin(null, [a, b], b)).toEqual({ kind: 'claim-here' });
    expect(routeJoin(null, [a, b], a)).toEqual({ kind: 'claim-for', node: b });
  });

  it('a room claimed by a live node: sent there; claimed for this node: opened here', () => {
    expect(routeJoin('b', [a, b], a)).toEqual({ kind: 'redirect', node: b });
    expect(routeJoin('a', [a, b], a)).toEqual({ kind: 'open-here' });
  });

  it('a claim naming a node that is gone, or this node while it drains, is dropped and decided again', () => {
    expect(routeJoin('dead', [a, b], a)).toEqual({ kind: 'drop-stale-claim', owner: 'dead' });
    const drainingA = { ...a, draining: true };
    expect(routeJoin('a', [drainingA, b], drainingA)).toEqual({ kind: 'drop-stale-claim', owner: 'a' });
  });

  it('a room claimed by a draining node still goes there: its open call goes on', () => {
    const drainingB = { ...b, draining: true };
    expect(routeJoin('b', [a, drainingB], a)).toEqual({ kind: 'redirect', node: drainingB });
  });

  it('refuses with a reason when no node takes new rooms', () => {
    const full = node('a', { peers: 2, capacity: 2 });
    expect(routeJoin(null, [full], full)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/full or draining/) });
  });
});

describe('liveNodes and parseNodeLoad', () => {
  it('drops nodes whose heartbeat is older than the TTL', () => {
    expect(liveNodes([node('a', { at: 1000 }), node('b', { at: 5000 })], 7000, 3000).map((n) => n.id)).toEqual(['b']);
  });

  it('reads a node record back, and refuses a damaged or foreign one', () => {
    const n = node('a', { capacity: 40 });
    expect(parseNodeLoad(JSON.stringify(n))).toEqual(n);
    expect(parseNodeLoad(null)).toBeUndefined();
    expect(parseNodeLoad('{not json')).toBeUndefined();
    expect(parseNodeLoad(JSON.stringify({ ...n, url: 'javascript:alert(1)' }))).toBeUndefined();
    expect(parseNodeLoad(JSON.stringify({ ...n, peers: -1 }))).toBeUndefined();
    expect(parseNodeLoad(JSON.stringify({ ...n, draining: 'no' }))).toBeUndefined();
  });
});
