// Which engine the worker draws with. Engines start asynchronously (the
// neural one loads its models), requests arrive at any time, and the latest
// request always wins: an engine that finishes starting after another one was
// asked for is kept for later, not used. The first engine is chosen with the
// pipeline's start but only started once the face tracker is up; a request
// made meanwhile replaces that choice, so frames never meet a pack prepared
// for an engine that is no longer wanted.
// Pure (engines come from a factory), so the orderings are tested without a browser.
import type { EngineKind, IdnBackend } from '../engines/types.ts';

export interface SlotEngine { readonly kind: EngineKind; dispose(): void }
export type EngineFactory<E> = (kind: EngineKind, backend: IdnBackend | undefined) => Promise<E>;

export class EngineSlot<E extends SlotEngine> {
  private readonly engines = new Map<EngineKind, Promise<E>>();
  private wantedKind: EngineKind = 'mesh';
  /** The neural engine's backend as last asked for (undefined: chosen automatically). */
  private idnBackend: IdnBackend | undefined;
  private currentEngine: E | undefined;

  constructor(private readonly make: EngineFactory<E>) {}

  /** The engine asked for last. */
  get wanted(): EngineKind { return this.wantedKind; }

  /**
   * The engine frames go through: the last one asked for that has started. While
   * another one starts, the previous engine keeps drawing (its packs stay valid
   * until the identity is prepared again for the new one).
   */
  get current(): E | undefined { return this.currentEngine; }

  /**
   * Whether want(kind, backend) would ask for nothing new: `kind` is wanted
   * already, with the same neural backend (absent keeps it; 'auto' means none chosen).
   */
  wants(kind: EngineKind, backend?: IdnBackend | 'auto'): boolean {
    if (kind !== this.wantedKind) return false;
    return kind !== 'idn' || backend === undefined || (backend === 'auto' ? undefined : backend) === this.idnBackend;
  }

  /** Records the first choice without starting it (see startWanted). */
  choose(kind: EngineKind): void { this.wantedKind = kind; }

  /** Starts whatever is wanted now: the first choice, or a request made since. */
  startWanted(): Promise<void> { return this.want(this.wantedKind); }

  /**
   * Asks for `kind` (for idn, `backend` too: 'auto' chooses, absent keeps the
   * last). Resolves once it is current, or superseded by a later request;
   * rejects where it could not start.
   */
  async want(kind: EngineKind, backend?: IdnBackend | 'auto'): Promise<void> {
    this.wantedKind = kind;
    if (kind === 'idn' && backend) this.setIdnBackend(backend === 'auto' ? undefined : backend);
    const starting = this.get(kind);
    const started = await starting;
    // Still wanted, and not replaced meanwhile (another backend is another engine).
    if (this.wantedKind === kind && this.engines.get(kind) === starting) this.currentEngine = started;
  }

  /** The engine of `kind` (started on first use, with the current backend), for preparing and checking packs. */
  get(kind: EngineKind): Promise<E> {
    let e = this.engines.get(kind);
    if (!e) {
      const made = this.make(kind, kind === 'idn' ? this.idnBackend : undefined);
      this.engines.set(kind, made);
      made.catch(() => { if (this.engines.get(kind) === made) this.engines.delete(kind); }); // a later request may try again
      e = made;
    }
    return e;
  }

  /** Releases every engine (their GPU resources and ONNX sessions). */
  disposeAll(): void {
    for (const e of this.engines.values()) void e.then((started) => started.dispose(), () => {});
    this.engines.clear();
    this.currentEngine = undefined;
  }

  private setIdnBackend(backend: IdnBackend | undefined) {
    if (backend === this.idnBackend) return;
    // Another backend is another set of sessions: release the old ones.
    this.idnBackend = backend;
    const old = this.engines.get('idn');
    this.engines.delete('idn');
    if (this.currentEngine?.kind === 'idn') this.currentEngine = undefined;
    void old?.then((e) => e.dispose(), () => {});
  }
}
