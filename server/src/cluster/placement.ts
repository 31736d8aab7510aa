// Where a room lives, decided from the cluster's view in Redis. Pure: the
// inputs are what ClusterNode read, the output says what to do with a join.

/** One node as it heartbeats into Redis. */
export interface NodeLoad {
  id: string;
  /** The address clients connect to (its PUBLIC_URL's origin). */
  url: string;
  rooms: number;
  peers: number;
  /** Media workers' and the node process's CPU over the last heartbeat, in cores. */
  cpu: number;
  cores: number;
  /** Peers it holds before it refuses new rooms (NODE_CAPACITY); null: no limit. */
  capacity: number | null;
  draining: boolean;
  /** When it last heartbeated (ms since the epoch). */
  at: number;
}

/** A node busier than this share of its cores sorts after every calmer one. */
export const CPU_BUSY_SHARE = 0.85;

/** Whether a node may be given a new room. */
export function takesNewRooms(n: NodeLoad): boolean {
  return !n.draining && (n.capacity === null || n.peers < n.capacity);
}

/**
 * The live node that should host a new room, or undefined when none can.
 * Least loaded first: a CPU-starved node last, then by peers (as a share of
 * its capacity), then rooms. On a tie this node keeps the room, which saves
 * the joining client a redirect; the id breaks what is left, so every node
 * makes the same choice from the same view.
 */
export function chooseNode(nodes: readonly NodeLoad[], selfId: string): NodeLoad | undefined {
  const candidates = nodes.filter(takesNewRooms);
  const busy = (n: NodeLoad) => (n.cores > 0 && n.cpu / n.cores > CPU_BUSY_SHARE ? 1 : 0);
  const share = (n: NodeLoad) => (n.capacity ? n.peers / n.capacity : n.peers);
  return candidates.sort((a, b) =>
    busy(a) - busy(b)
    || share(a) - share(b)
    || a.rooms - b.rooms
    || Number(b.id === selfId) - Number(a.id === selfId)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
}

/** What a node does with a join for a room it does not have open. */
export type JoinRoute =
  /** Claim the room here (nobody holds it), then open it. */
  | { kind: 'claim-here' }
  /** Open it here: the claim is already this node's (placed here by another node). */
  | { kind: 'open-here' }
  /** Another live node holds the room, or should: send the client there. */
  | { kind: 'redirect'; node: NodeLoad }
  /** Try to claim the room for that node, then send the client there. */
  | { kind: 'claim-for'; node: NodeLoad }
  /** The claim names a node that stopped heartbeating: drop the claim, then decide again. */
  | { kind: 'drop-stale-claim'; owner: string }
  | { kind: 'refuse'; reason: string };

/**
 * `owner` is the node id the room → node map names (null: unclaimed);
 * `nodes` are the live nodes, this one included.
 */
export function routeJoin(owner: string | null, nodes: readonly NodeLoad[], self: NodeLoad): JoinRoute {
  if (owner !== null) {
    if (owner === self.id) {
      // Placed here, but this node stopped taking rooms since: let the next decision place it again.
      return takesNewRooms(self) ? { kind: 'open-here' } : { kind: 'drop-stale-claim', owner };
    }
    const holder = nodes.find((n) => n.id === owner);
    return holder ? { kind: 'redirect', node: holder } : { kind: 'drop-stale-claim', owner };
  }
  const best = chooseNode(nodes, self.id);
  if (!best) return { kind: 'refuse', reason: 'every node is full or draining; try again in a minute' };
  return best.id === self.id ? { kind: 'claim-here' } : { kind: 'claim-for', node: best };
}

/** Only nodes whose heartbeat is younger than `ttlMs` count (their key's TTL says the same; this guards a clock read between). */
export function liveNodes(nodes: readonly NodeLoad[], now: number, ttlMs: number): NodeLoad[] {
  return nodes.filter((n) => now - n.at < ttlMs);
}

/** A node's record as read from Redis, or undefined if it is not one (another version's, or damaged). */
export function parseNodeLoad(raw: string | null | undefined): NodeLoad | undefined {
  if (!raw) return undefined;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { return undefined; }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (typeof o.id !== 'string' || typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) return undefined;
  if (!num(o.rooms) || !num(o.peers) || !num(o.cpu) || !num(o.cores) || !num(o.at) || typeof o.draining !== 'boolean') return undefined;
  if (o.capacity !== null && !num(o.capacity)) return undefined;
  return {
    id: o.id, url: o.url, rooms: o.rooms as number, peers: o.peers as number, cpu: o.cpu as number, cores: o.cores as number,
    capacity: o.capacity as number | null, draining: o.draining, at: o.at as number,
  };
}
