// Identity packs are cached in IndexedDB, keyed by the photo's content and the
// engine and pack format that built them, so a photo is analysed once.
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

let store: UseStore | undefined;
const db = () => (store ??= createStore('guise', 'identity-packs'));

export async function photoKey(photo: Blob, engine: string, formatVersion: number): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await photo.arrayBuffer());
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${engine}:v${formatVersion}:${hex}`;
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
