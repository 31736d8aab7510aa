// Which Guise node the call's signaling talks to. Pure: CallSession asks it
// where to connect after a `moved` answer or a lost connection.
//
// One server: always `home` (the page's own origin). In a cluster the join
// answer names every live node; a `moved` answer sends the session to the
// node that holds the room, and a lost node sends it round the others, home
// first, each of which either holds the room now or says who does.

/** Moves in a row (without a join) that go at once; after them each waits, while a dead node's claim runs out. */
export const QUICK_MOVES = 3;
export const SLOW_MOVE_MS = 1000;

export class NodeRoute {
  private current: string;
  private known: string[] = [];
  private moves = 0;

  constructor(readonly home: string) {
    this.current = home;
  }

  /** Where the signaling connects now. */
  get url(): string { return this.current; }
  get atHome(): boolean { return this.current === this.home; }
  /** More than one node is known: a lost connection goes to another. */
  get inCluster(): boolean { return this.known.length > 1 || !this.atHome; }

  /** A join succeeded here; `nodes` (from its answer) are the nodes to fall back to. */
  joined(nodes: readonly string[] | undefined): void {
    this.moves = 0;
    const origins = (nodes ?? []).map(originOf).filter((o): o is string => o !== undefined);
    if (origins.length > 0) this.known = [...new Set(origins)];
  }

  /**
   * The server answered `moved`: the origin to connect to, or undefined if
   * `location` is not an http(s) URL or is where we are (a node whose
   * PUBLIC_URL names another would send us round in a circle).
   */
  moved(location: string): string | undefined {
    const origin = originOf(location);
    if (origin === undefined || origin === this.current) return undefined;
    this.moves++;
    this.current = origin;
    return origin;
  }

  /** The connection to the current node was lost or never made: the next node to try. */
  lost(): string {
    const ring = [this.home, ...this.known.filter((n) => n !== this.home)];
    const i = ring.indexOf(this.current);
    this.moves++;
    this.current = ring[(i + 1) % ring.length]!;
    return this.current;
  }

  /** The call is over: the next one starts at the page's own server, which places its room afresh. */
  reset(): void {
    this.current = this.home;
    this.moves = 0;
  }

  /** How long to wait before connecting to the node a move chose: at once, unless moves keep failing. */
  get delayMs(): number { return this.moves > QUICK_MOVES ? SLOW_MOVE_MS : 0; }
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
