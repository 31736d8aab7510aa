// The person's face choices, shared by the lobby and the call: which
// identities there are, which one is on, the swap options, and the live
// stats. It drives whichever FacePipeline is attached (the camera's), so the
// choices survive a camera switch and the move from lobby to call. The engine
// is the worker's to choose: this store asks for one and shows what the worker
// reports; it only holds a choice while no worker runs, for the next one.
import { writable, type Readable } from 'svelte/store';
import { fetchIdnManifest, type IdnModel } from '@guise/face/idn/manifest';
import { loadDisclosureMark, saveDisclosureMark } from '../app/storage.ts';
import { defaultSwapOptions, type EngineKind, type IdnBackend, type SwapOptions } from '../engines/types.ts';
import { forgetPack, loadPack, photoKey, savePack } from '../identity/cache.ts';
import { PACK_FORMAT_VERSION } from '@guise/face/pack';
import { samples } from '../identity/samples.ts';
import { checkPhotoFile } from '@guise/face/photo';
import type { ModelLoad, PipelineStats } from '../pipeline/messages.ts';
import { IdentityRejected, type FacePipeline, type PreparedIdentity } from '../pipeline/FacePipeline.ts';

export interface IdentityChoice {
  /** `sample:NAME` or `upload:N`. */
  id: string;
  label: string;
  kind: 'sample' | 'upload';
  thumbUrl: string;
}

export interface EngineChoice { kind: EngineKind; label: string }

export interface FaceChoiceState {
  /** The engines this build offers. */
  engines: EngineChoice[];
  /** The engine the attached pipeline's worker reports using; with none attached, the one the next starts with. */
  engine: EngineKind;
  /** Where the neural engine runs: chosen automatically unless overridden. */
  idnBackend: IdnBackend | 'auto';
  identities: IdentityChoice[];
  /** The identity on screen, or null for the person's own face. */
  selected: string | null;
  /** An identity being prepared on its way to being selected. */
  preparing: string | null;
  error: string | null;
  options: SwapOptions;
  stats: PipelineStats | null;
  /** Whether a face pipeline is attached (false where the browser can't run one). */
  available: boolean;
  /** The neural model this build offers (its manifest: provenance and terms for the About box), or null. */
  idnModel: IdnModel | null;
  /** The neural model's files while the worker gets them (for the progress bar); null when no load is under way. */
  modelLoad: ModelLoad | null;
}

export const CONSENT_TEXT =
  'This is my face, or I have the permission of the person in the photo, and I understand that everyone in the call will see it as my video, marked as synthetic.';

export class FaceChoice implements Readable<FaceChoiceState> {
  private readonly store = writable<FaceChoiceState>({
    engines: [{ kind: 'mesh', label: 'Mesh (classical)' }],
    engine: 'mesh',
    idnBackend: 'auto',
    identities: samples.map((s) => ({ id: `sample:${s.name}`, label: s.label, kind: 'sample', thumbUrl: s.url })),
    selected: null, preparing: null, error: null, options: { ...defaultSwapOptions, disclosureMark: loadDisclosureMark() }, stats: null, available: false, idnModel: null, modelLoad: null,
  });
  readonly subscribe = this.store.subscribe;
  private state!: FaceChoiceState;
  private readonly photos = new Map<string, Blob>();
  private pipeline: FacePipeline | undefined;
  /** Identities prepared in the attached pipeline's worker (a new pipeline starts empty). */
  private prepared = new Map<string, Promise<PreparedIdentity>>();
  /** Unsubscribes from the attached pipeline's reports. */
  private offPipeline: (() => void)[] = [];
  /** The worker's stall now in `error` (cleared with it, leaving other errors alone). */
  private stall: string | null = null;
  private uploads = 0;
  /** Identities loaded from the IndexedDB cache instead of being analysed again (for tests and debugging). */
  cacheHits = 0;
  /** The latest select() wins; an earlier one still preparing must not take over. */
  private selectSeq = 0;
  /** Settles once discoverEngines has chosen the engine: identities are prepared for that one, not the default first. */
  private enginesKnown: Promise<void> = Promise.resolve();

  constructor() {
    this.store.subscribe((s) => { this.state = s; });
  }

  get options(): SwapOptions { return this.state.options; }
  /** The engine a pipeline started now should start with. */
  get engine(): EngineKind { return this.state.engine; }

  /**
   * Offers the neural engine when the build ships a trained or converted
   * model. Random test weights are never offered, unless asked for by name
   * (`&engine=idn`, for tests), and then labelled as such.
   */
  discoverEngines(requested: EngineKind | null): Promise<void> {
    const discovery = this.discover(requested);
    this.enginesKnown = discovery.catch(() => {});
    return discovery;
  }

  private async discover(requested: EngineKind | null): Promise<void> {
    const model = await this.idnModel();
    const manifest = model?.manifest;
    if (model && manifest && (manifest.weights !== 'random' || requested === 'idn')) {
      const label = manifest.weights === 'random' ? 'MobileFaceSwap (untrained test weights)'
        : manifest.weights === 'converted' ? 'MobileFaceSwap (official weights)' : 'MobileFaceSwap';
      this.store.update((s) => ({ ...s, idnModel: model, engines: [...s.engines.filter((e) => e.kind !== 'idn'), { kind: 'idn', label }] }));
    }
    if (requested && this.state.engines.some((e) => e.kind === requested)) await this.setEngine(requested);
  }

  /** Overrides where the neural engine runs (its packs stay valid: they don't depend on the backend). */
  setIdnBackend(backend: IdnBackend | 'auto'): void {
    this.store.update((s) => ({ ...s, idnBackend: backend }));
    if (this.state.engine === 'idn') void this.askEngine('idn');
  }

  /**
   * Asks for another engine on the same track. With a pipeline attached, its
   * worker switches and answers with the engine it then wants (engineInUse);
   * identities are prepared again for it (packs are per engine).
   */
  async setEngine(kind: EngineKind): Promise<void> {
    if (this.pipeline) await this.askEngine(kind);
    else this.store.update((s) => ({ ...s, engine: kind }));
  }

  attach(pipeline: FacePipeline): void {
    this.detach();
    this.pipeline = pipeline;
    this.prepared = new Map();
    this.offPipeline = [
      pipeline.on('stats', (stats) => this.store.update((s) => ({ ...s, stats }))),
      pipeline.on('engine', (kind) => this.engineInUse(kind)),
      // The worker falls back to the mesh engine itself, and reports that too.
      pipeline.on('engineFailed', (engine, message) => {
        // A load that failed part way leaves no progress to show.
        this.store.update((s) => ({ ...s, modelLoad: null, error: `The ${engine} engine could not start (${message}); using the mesh engine.` }));
      }),
      pipeline.on('stalled', (message) => this.showStall(message)),
      pipeline.on('modelLoad', (load) => this.modelLoaded(load)),
    ];
    pipeline.setOptions(this.state.options);
    // The engine (or backend) chosen while the pipeline was starting, or before this camera's pipeline;
    // the worker ignores a request for the engine it has.
    void this.askEngine(this.state.engine);
    this.store.update((s) => ({ ...s, available: true }));
    // A pipeline can start before the engine asked for (`&engine=idn`) is known: wait, rather than prepare for the default one first.
    void this.enginesKnown.then(() => {
      if (this.pipeline !== pipeline) return;
      const { selected } = this.state;
      if (selected) void this.select(selected).catch(() => {});
      // Warm the others so a switch mid-call shows on the next frame.
      for (const c of this.state.identities) if (c.id !== selected) void this.prepare(c.id).catch(() => {});
    });
  }

  detach(): void {
    for (const off of this.offPipeline) off();
    this.offPipeline = [];
    this.showStall(null);
    this.pipeline = undefined;
    this.prepared = new Map();
    this.store.update((s) => ({ ...s, available: false, stats: null, preparing: null, modelLoad: null }));
  }

  /** Shows `id` (or the person's own face for null) from the next frame on. */
  async select(id: string | null): Promise<void> {
    const seq = ++this.selectSeq;
    const pipeline = this.pipeline;
    if (id === null || !pipeline) {
      await pipeline?.use(null);
      if (seq === this.selectSeq) this.store.update((s) => ({ ...s, selected: id, preparing: null, error: null }));
      return;
    }
    this.store.update((s) => ({ ...s, preparing: id, error: null }));
    try {
      for (;;) {
        const preparing = this.prepare(id);
        const identity = await preparing;
        if (seq !== this.selectSeq || pipeline !== this.pipeline) return;
        // The engine changed while it was prepared (that drops every prepared identity): prepare it again for the new one.
        if (this.prepared.get(id) !== preparing) continue;
        // "Selected" once others see it: until then, preparing.
        await pipeline.use(identity);
        if (seq === this.selectSeq) this.store.update((s) => ({ ...s, selected: id, preparing: null }));
        return;
      }
    } catch (err) {
      if (seq !== this.selectSeq) return;
      this.store.update((s) => ({ ...s, preparing: null, error: messageOf(err) }));
      throw err;
    }
  }

  /**
   * Adds the person's own photo. Requires their explicit consent; the photo is
   * checked (type, size, exactly one face, large enough) before it is offered.
   */
  async upload(file: File, consent: boolean): Promise<void> {
    if (!consent) {
      this.store.update((s) => ({ ...s, error: 'Please confirm the consent statement before using your own photo.' }));
      throw new Error('consent not given');
    }
    const problem = checkPhotoFile(file);
    if (problem) {
      this.store.update((s) => ({ ...s, error: problem.message }));
      throw new IdentityRejected(problem);
    }
    const id = `upload:${++this.uploads}`;
    this.photos.set(id, file);
    const choice: IdentityChoice = { id, label: 'Custom photo', kind: 'upload', thumbUrl: URL.createObjectURL(file) };
    this.store.update((s) => ({ ...s, identities: [...s.identities, choice] }));
    try {
      await this.select(id);
    } catch (err) {
      // A refused photo is not offered again.
      URL.revokeObjectURL(choice.thumbUrl);
      this.photos.delete(id);
      this.prepared.delete(id);
      this.store.update((s) => ({ ...s, identities: s.identities.filter((c) => c.id !== id) }));
      throw err;
    }
  }

  setOptions(patch: Partial<SwapOptions>): void {
    const options = { ...this.state.options, ...patch };
    if (patch.disclosureMark !== undefined) saveDisclosureMark(patch.disclosureMark);
    this.pipeline?.setOptions(options);
    this.store.update((s) => ({ ...s, options }));
  }

  private async askEngine(kind: EngineKind): Promise<void> {
    const pipeline = this.pipeline;
    const inUse = await pipeline?.setEngine(kind, kind === 'idn' ? this.state.idnBackend : undefined).catch(() => undefined);
    if (inUse && pipeline === this.pipeline) this.engineInUse(inUse);
  }

  /** The worker draws with `kind` now: identities are prepared again for it. */
  private engineInUse(kind: EngineKind): void {
    if (kind === this.state.engine) return;
    this.store.update((s) => ({ ...s, engine: kind }));
    this.prepared = new Map();
    if (this.state.selected) void this.select(this.state.selected).catch(() => {});
  }

  /**
   * Shows a load's progress until its files are all in hand, and then marks
   * what it cost on this page's performance timeline, for the bench:
   * `guise:idn-download` where any file came over the network (detail.bytes:
   * the bytes downloaded), else `guise:idn-load` (every file from Cache
   * Storage; detail.bytes: their size). Each measure lasts as long as getting
   * the files took in the worker, checks included, and ends when the report arrives.
   */
  private modelLoaded(load: ModelLoad): void {
    if (load.doneMs === null) {
      this.store.update((s) => ({ ...s, modelLoad: load }));
      return;
    }
    this.store.update((s) => ({ ...s, modelLoad: null }));
    const fromNetwork = load.downloaded > 0;
    performance.measure(fromNetwork ? 'guise:idn-download' : 'guise:idn-load', {
      end: performance.now(),
      duration: load.doneMs,
      detail: { bytes: fromNetwork ? load.downloaded : load.total, total: load.total },
    });
  }

  /** A stalled or failing swap shows as the error (the camera passes through meanwhile); it goes once frames are swapped again. */
  private showStall(message: string | null): void {
    const previous = this.stall;
    this.stall = message;
    if (message) this.store.update((s) => ({ ...s, error: message }));
    else if (previous) this.store.update((s) => (s.error === previous ? { ...s, error: null } : s));
  }

  private idnModelRequest: Promise<IdnModel | null> | undefined;

  /** The build's neural model (fetched once). */
  private idnModel(): Promise<IdnModel | null> {
    return (this.idnModelRequest ??= fetchIdnManifest(new URL('models/idn/', document.baseURI).href));
  }

  private prepare(id: string): Promise<PreparedIdentity> {
    const pipeline = this.pipeline;
    if (!pipeline) return Promise.reject(new Error('the camera is not on'));
    let p = this.prepared.get(id);
    if (!p) {
      p = this.build(pipeline, id);
      this.prepared.set(id, p);
      p.catch(() => { if (this.prepared.get(id) === p) this.prepared.delete(id); });
    }
    return p;
  }

  private async build(pipeline: FacePipeline, id: string): Promise<PreparedIdentity> {
    const choice = this.state.identities.find((c) => c.id === id);
    if (!choice) throw new Error(`unknown identity ${id}`);
    const photo = this.photos.get(id) ?? await fetchPhoto(choice.thumbUrl);
    this.photos.set(id, photo);
    const engine = this.state.engine;
    // Neural packs are per model: a pack cached under another one is not looked up.
    const model = engine === 'idn' ? (await this.idnModel())?.id : undefined;
    const key = await photoKey(photo, engine, PACK_FORMAT_VERSION, model);
    const cached = await loadPack(key);
    if (cached) {
      try {
        const loaded = await pipeline.load(cached, choice.label);
        this.cacheHits++;
        return loaded;
      } catch {
        // Damaged, or the worker found it doesn't fit its model: rebuild below.
        await forgetPack(key);
      }
    }
    const prepared = await pipeline.prepare(photo, choice.label, engine);
    if (prepared.pack) await savePack(key, prepared.pack);
    return prepared;
  }
}

async function fetchPhoto(url: string): Promise<Blob> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url} (${res.status})`);
  return res.blob();
}

function messageOf(err: unknown): string {
  if (err instanceof IdentityRejected) return err.problem.message;
  return `Could not use that identity: ${(err as Error).message}`;
}

/** The app's one FaceChoice. */
export const faceChoice = new FaceChoice();
