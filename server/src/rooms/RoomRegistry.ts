// Finds or creates rooms by name. Anyone can host: joining an unknown room
// creates it on the least-loaded media worker; an empty room goes away.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.ts';
import { withTimeout } from '../media/timeout.ts';
import type { WorkerPool } from '../media/WorkerPool.ts';
import { DEFAULT_MEDIA_TIMEOUT_MS, Room } from './Room.ts';

/** 'closed' tells the cluster node (if any) to give up its claim on the room. */
export class RoomRegistry extends EventEmitter<{ closed: [id: string] }> {
  private readonly rooms = new Map<string, Room>();
  /** Router creation is async; concurrent joins of a new room must share one. */
  private readonly pending = new Map<string, Promise<Room>>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly log: Logger,
    private readonly mediaTimeoutMs = DEFAULT_MEDIA_TIMEOUT_MS,
  ) { super(); }

  get size(): number { return this.rooms.size; }
  get all(): Iterable<Room> { return this.rooms.values(); }
  get(id: string): Room | undefined { return this.rooms.get(id); }

  async getOrCreate(id: string): Promise<Room> {
    const existing = this.rooms.get(id);
    if (existing && !existing.isClosed) return existing;
    let pending = this.pending.get(id);
    if (!pending) {
      pending = this.create(id).finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  closeAll(): void {
    for (const room of this.rooms.values()) room.close('server_shutdown');
  }

  private async create(id: string): Promise<Room> {
    // A router that arrives after the timeout is closed: the join that wanted it
    // has failed, and a retry makes its own.
    const { router, webRtcServer } = await withTimeout(this.pool.createRouter(), this.mediaTimeoutMs, 'open the room', (late) => late.router.close());
    const room = new Room(id, router, webRtcServer, this.log, this.mediaTimeoutMs, (codecs) => this.pool.createRouter(codecs, router));
    this.rooms.set(id, room);
    room.once('close', () => {
      if (this.rooms.get(id) !== room) return;
      this.rooms.delete(id);
      this.emit('closed', id);
    });
    return room;
  }
}
