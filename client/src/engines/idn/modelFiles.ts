// The neural model's files as the client fetches and keeps them: which URL
// each is cached under, whether bytes in hand are the file the manifest
// describes, and how far a load has got. Pure, so the keying and the checks
// are tested without a browser; modelStore.ts does the fetching and caching.
import type { IdnModel } from '@guise/face/idn/manifest';

/** The Cache Storage cache that holds the neural model's files (nothing else). */
export const MODEL_CACHE = 'guise-idn-model';

export interface ModelFile {
  /** The file's name in the model folder, e.g. conditioner.onnx. */
  name: string;
  /** Where it is served. */
  url: string;
  /** Its size and SHA-256 (lowercase hex) as the manifest records them; older exports record neither. */
  bytes?: number;
  sha256?: string;
}

/** `names` in the model folder at `base` (an absolute URL ending in /), with what the manifest records of each. */
export function modelFiles(model: IdnModel, base: string, names: readonly string[]): ModelFile[] {
  return names.map((name) => {
    const recorded = model.manifest.files?.[name];
    return { name, url: new URL(name, base).href, bytes: recorded?.bytes, sha256: recorded?.sha256 };
  });
}

/**
 * Where a file is cached: its URL with its SHA-256 in the query, so a model
 * exported again (new hashes) misses the old entries rather than reusing
 * them. A file whose hash the manifest does not record is not cached: nothing
 * would tell its old bytes from its new ones.
 */
export function cacheKey(file: ModelFile): string | null {
  if (!file.sha256) return null;
  const url = new URL(file.url);
  url.searchParams.set('sha256', file.sha256);
  return url.href;
}

/** The cached entries (by URL) that no wanted file is kept under: an older model's files, dropped to free the space. */
export function staleKeys(cached: readonly string[], wanted: readonly ModelFile[]): string[] {
  const keep = new Set(wanted.map(cacheKey).filter((k) => k !== null));
  return cached.filter((k) => !keep.has(k));
}

/** Why `size` bytes with digest `sha256` (absent: not computed) are not the file the manifest describes, or null where they fit. */
export function fileProblem(file: ModelFile, size: number, sha256?: string): string | null {
  if (file.bytes !== undefined && size !== file.bytes) return `${file.name} is ${size} bytes, not the ${file.bytes} its manifest records`;
  if (file.sha256 !== undefined && sha256 !== undefined && sha256 !== file.sha256) return `${file.name} does not match the SHA-256 its manifest records`;
  return null;
}

/** A digest as lowercase hex. */
export function hex(digest: ArrayBuffer): string {
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** How far loading the model's files has got, as the UI's progress bar and the bench read it. */
export interface ModelLoad {
  /** Bytes of the files in hand, from the network or the cache, and the size of them all. */
  loaded: number;
  total: number;
  /** Of `loaded`, the bytes that came over the network (0: every file was in the cache). */
  downloaded: number;
  /** Once every file is in hand: milliseconds since the load began; null until then. */
  doneMs: number | null;
}

/**
 * Counts a load's bytes over several files. The total is the manifest's sizes;
 * a file it gives no size for counts from its response's Content-Length. Says
 * when a report is due: at most one per percent of the total, so a 50 MB
 * download sends about a hundred, not one per network chunk.
 */
export class LoadProgress {
  private readonly sizes = new Map<string, number>();
  private readonly got = new Map<string, number>();
  private downloaded = 0;
  private reportedAt = -1;

  constructor(files: readonly ModelFile[]) {
    for (const f of files) this.sizes.set(f.name, f.bytes ?? 0);
  }

  /** A file's size, learnt from its response where the manifest gave none. */
  sizeKnown(name: string, bytes: number): void {
    if (!this.sizes.get(name)) this.sizes.set(name, bytes);
  }

  /** `bytes` more of `name` in hand; `fromNetwork` false for bytes read from the cache. */
  add(name: string, bytes: number, fromNetwork: boolean): void {
    this.got.set(name, (this.got.get(name) ?? 0) + bytes);
    if (fromNetwork) this.downloaded += bytes;
  }

  /** Where the load stands (doneMs: pass it once every file is in hand). */
  state(doneMs: number | null = null): ModelLoad {
    let loaded = 0, total = 0;
    for (const [name, size] of this.sizes) {
      const got = this.got.get(name) ?? 0;
      loaded += got;
      total += Math.max(size, got);
    }
    return { loaded, total, downloaded: this.downloaded, doneMs };
  }

  /** Whether the load has moved on by a percent of the total (or more) since the last report due; the first call always is. */
  reportDue(): boolean {
    const { loaded, total } = this.state();
    const step = Math.max(1, Math.floor(total / 100));
    if (this.reportedAt >= 0 && loaded - this.reportedAt < step && loaded < total) return false;
    if (this.reportedAt === loaded) return false;
    this.reportedAt = loaded;
    return true;
  }
}
