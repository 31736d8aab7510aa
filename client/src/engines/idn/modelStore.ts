// Gets the neural model's files into memory: from Cache Storage where an
// earlier load left them, else over the network (streamed, so the UI can show
// progress) and then into the cache for the next load. Every file is checked
// against the size and SHA-256 its manifest records before it is used, so a
// damaged cache entry or a truncated download never reaches onnxruntime.
// Cache Storage exists in workers, but only in secure contexts (https, or
// localhost): elsewhere the files are downloaded on every load.
import { cacheKey, fileProblem, hex, LoadProgress, MODEL_CACHE, staleKeys, type ModelFile, type ModelLoad } from './modelFiles.ts';

/** The header a cached entry records its size in (a constructed Response carries no Content-Length of its own). */
const SIZE_HEADER = 'X-Guise-Bytes';

/** Each file's bytes by name, checked; fetched from the cache or the network, reporting progress as they come. */
export async function loadModelFiles(files: readonly ModelFile[], onProgress: (load: ModelLoad) => void): Promise<Map<string, Uint8Array>> {
  const started = performance.now();
  const cache = await openCache();
  const progress = new LoadProgress(files);
  const report = () => { if (progress.reportDue()) onProgress(progress.state()); };
  report();
  const loaded = await Promise.all(files.map(async (file) => {
    const key = cacheKey(file);
    const cached = cache && key ? await fromCache(cache, key, file) : null;
    if (cached) {
      progress.add(file.name, cached.byteLength, false);
      report();
      return [file.name, cached] as const;
    }
    const bytes = await download(file, progress, report);
    await checked(file, bytes);
    if (cache && key) {
      const entry = new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream', [SIZE_HEADER]: String(bytes.byteLength) } });
      // Out of quota (or storage refused): this load goes on; the next downloads again.
      await cache.put(key, entry).catch((err: Error) => console.warn(`guise: ${file.name} not cached: ${err.message}`));
    }
    return [file.name, bytes] as const;
  }));
  onProgress(progress.state(performance.now() - started));
  if (cache) void dropStale(cache, files);
  return new Map(loaded);
}

async function openCache(): Promise<Cache | undefined> {
  if (typeof caches === 'undefined') return undefined;
  return caches.open(MODEL_CACHE).catch(() => undefined);
}

/** The cached file, checked; null where it is missing or no longer fits (it is then downloaded again). */
async function fromCache(cache: Cache, key: string, file: ModelFile): Promise<Uint8Array | null> {
  const hit = await cache.match(key).catch(() => undefined);
  if (!hit || fileProblem(file, Number(hit.headers.get(SIZE_HEADER))) !== null) return null;
  const bytes = new Uint8Array(await hit.arrayBuffer());
  try {
    await checked(file, bytes);
  } catch (err) {
    console.warn(`guise: cached ${(err as Error).message}; downloading it again`);
    await cache.delete(key).catch(() => {});
    return null;
  }
  return bytes;
}

/** The file from the network, read chunk by chunk into one buffer (sized from the manifest, else Content-Length). */
async function download(file: ModelFile, progress: LoadProgress, report: () => void): Promise<Uint8Array> {
  const res = await fetch(file.url);
  if (!res.ok || !res.body) throw new Error(`could not load ${file.name} (HTTP ${res.status})`);
  const declared = file.bytes ?? (Number(res.headers.get('Content-Length')) || 0);
  progress.sizeKnown(file.name, declared);
  let buffer = new Uint8Array(declared);
  let length = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (length + value.byteLength > buffer.byteLength) {
      // Larger than declared: the size check below refuses a file the manifest sized; an unsized one just grows.
      const grown = new Uint8Array(Math.max(buffer.byteLength * 2, length + value.byteLength));
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    buffer.set(value, length);
    length += value.byteLength;
    progress.add(file.name, value.byteLength, true);
    report();
  }
  return length === buffer.byteLength ? buffer : buffer.slice(0, length);
}

/** Throws where `bytes` are not the file its manifest describes. */
async function checked(file: ModelFile, bytes: Uint8Array): Promise<void> {
  const digest = file.sha256 ? hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) : undefined;
  const problem = fileProblem(file, bytes.byteLength, digest);
  if (problem) throw new Error(problem);
}

/** Deletes an older model's cached files. */
async function dropStale(cache: Cache, files: readonly ModelFile[]): Promise<void> {
  const keys = (await cache.keys().catch(() => [] as readonly Request[])).map((r) => r.url);
  for (const key of staleKeys(keys, files)) await cache.delete(key).catch(() => {});
}
