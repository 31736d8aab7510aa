import { describe, expect, it } from 'vitest';
import type { EngineKind } from '../src/engines/types.ts';
import { EngineSlot } from '../src/pipeline/engineSlot.ts';
import type { IdnBackend } from '../src/pipeline/messages.ts';

interface Fake { kind: EngineKind; backend: IdnBackend | undefined; disposed: boolean; dispose(): void }

/** A factory whose engines start when the test says so, in any order. */
function factory() {
  const starts: { kind: EngineKind; backend: IdnBackend | undefined; resolve: () => void; reject: (e: Error) => void; engine: Fake }[] = [];
  const make = (kind: EngineKind, backend: IdnBackend | undefined) => new Promise<Fake>((resolve, reject) => {
    const engine: Fake = { kind, backend, disposed: false, dispose() { this.disposed = true; } };
    starts.push({ kind, backend, resolve: () => resolve(engine), reject, engine });
  });
  const start = (kind: EngineKind, backend?: IdnBackend) => starts.find((s) => s.kind === kind && s.backend === backend)!;
  return { make, starts, start };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('EngineSlot', () => {
  it('a request made while the first engine waits for the face tracker wins over the first choice', async () => {
    // The pipeline starts on mesh (the neural model not discovered yet); idn is asked for before the tracker is up.
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    slot.choose('mesh');
    const idn = slot.want('idn', 'auto');
    const first = slot.startWanted(); // the face tracker is up now
    expect(slot.wanted).toBe('idn');
    expect(f.starts.map((s) => s.kind)).toEqual(['idn']); // mesh was never asked for again
    f.start('idn').resolve();
    await Promise.all([idn, first]);
    expect(slot.current?.kind).toBe('idn');
  });

  it('an engine that finishes starting after another was asked for is not used', async () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    slot.choose('idn');
    const idn = slot.startWanted();
    const mesh = slot.want('mesh');
    f.start('mesh').resolve();
    await mesh;
    f.start('idn').resolve();
    await idn;
    expect(slot.current?.kind).toBe('mesh');
    expect(slot.wanted).toBe('mesh');
  });

  it('keeps the previous engine drawing while the next one starts', async () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    slot.choose('mesh');
    const mesh = slot.startWanted();
    f.start('mesh').resolve();
    await mesh;
    const idn = slot.want('idn');
    await settle();
    expect(slot.current?.kind).toBe('mesh');
    f.start('idn').resolve();
    await idn;
    expect(slot.current?.kind).toBe('idn');
  });

  it('a backend change replaces the neural engine: the old one is disposed and never adopted, even if it starts late', async () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    const wasm = slot.want('idn', 'wasm');
    const gpu = slot.want('idn', 'webgpu');
    f.start('idn', 'wasm').resolve();
    await wasm;
    expect(slot.current).toBeUndefined();
    await settle();
    expect(f.start('idn', 'wasm').engine.disposed).toBe(true);
    f.start('idn', 'webgpu').resolve();
    await gpu;
    expect(slot.current).toMatchObject({ kind: 'idn', backend: 'webgpu' });
    // The same backend again is the same engine.
    await slot.want('idn', 'webgpu');
    expect(f.starts).toHaveLength(2);
  });

  it('an engine that fails to start rejects its request, leaves the current one, and is tried again on the next', async () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    const mesh = slot.want('mesh');
    f.start('mesh').resolve();
    await mesh;
    const idn = slot.want('idn');
    f.start('idn').reject(new Error('no model'));
    await expect(idn).rejects.toThrow('no model');
    expect(slot.current?.kind).toBe('mesh');
    void slot.get('idn').catch(() => {});
    expect(f.starts.filter((s) => s.kind === 'idn')).toHaveLength(2);
  });

  it('wants: a request for the engine (and backend) already wanted asks for nothing new', () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    slot.choose('mesh');
    expect(slot.wants('mesh')).toBe(true);
    expect(slot.wants('idn')).toBe(false);
    void slot.want('idn', 'wasm').catch(() => {});
    expect(slot.wants('idn')).toBe(true); // absent keeps the backend
    expect(slot.wants('idn', 'wasm')).toBe(true);
    expect(slot.wants('idn', 'webgpu')).toBe(false);
    expect(slot.wants('idn', 'auto')).toBe(false);
    expect(f.starts).toHaveLength(1); // asking never started anything
  });

  it('disposes every engine on disposeAll', async () => {
    const f = factory();
    const slot = new EngineSlot<Fake>(f.make);
    const mesh = slot.want('mesh');
    void slot.get('idn');
    f.starts.forEach((s) => s.resolve());
    await mesh;
    slot.disposeAll();
    await settle();
    expect(f.starts.every((s) => s.engine.disposed)).toBe(true);
    expect(slot.current).toBeUndefined();
  });
});
