// Identity packs are cached in IndexedDB, keyed by the photo's content, the
// engine and pack format that built them and, for the neural engine, the model
// (a pack is one model's output: see engines/idn/packFit.ts), so a photo is
// analysed once per model.
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

let store: UseStore | undefined;
const db = () => (store ??= createStore('guise', 'identity-packs'));

export interface PackKeyParts {
  engine: string;
  formatVersion: number;
  /** The model's identity (the idn manifest's hash); absent for an engine without one (mesh). */
  model?: string;
  /** SHA-256 of the photo's bytes, hex. */
  photoHash: string;
}

/** `engine:vN:photo` or, with a model, `engine:vN:model:photo`. */
export function packCacheKey({ engine, formatVersion, model, photoHash }: PackKeyParts): string {
  if (!/^[a-z0-9-]+$/.test(engine)) throw new Error(`bad engine name ${JSON.stringify(engine)}`);
  if (model !== undefined && !/^[0-9a-f]{1,64}$/.test(model)) throw new Error(`bad model id ${JSON.stringify(model)}`);
  return model === undefined ? `${engine}:v${formatVersion}:${photoHash}` : `${engine}:v${formatVersion}:${model}:${photoHash}`;
}

export async function photoHash(photo: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await photo.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function photoKey(photo: Blob, engine: string, formatVersion: number, model?: string): Promise<string> {
  return packCacheKey({ engine, formatVersion, ...(model === undefined ? {} : { model }), photoHash: await photoHash(photo) });
}

/** A cached pack, or undefined. IndexedDB may be unavailable (private mode): then there is no cache. */
export async function loadPack(key: string): Promise<ArrayBuffer | undefined> {
  try { return await get<ArrayBuffer>(key, db()); } catch { return undefined; }
}

export async function savePack(key: string, pack: ArrayBuffer): Promise<void> {
  try { await set(key, pack, db()); } catch { /* no cache: the pack is rebuilt next time */ }
}

export async function forgetPack(key: string): Promise<void> {
  try { await del(key, db()); } catch { /* nothing to forget */ }
}
