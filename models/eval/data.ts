// The held-out faces for the quality eval: the TEST split of models/data,
// read from the prepared cache's index.json where it exists, else computed
// from the face sets' labels alone (certainTestIdentities: a subset of the
// test split that needs no face detection), with each identity's candidate
// photos in a fixed order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupPairs } from '../data/split.ts';
import { certainTestIdentities, FACES_SEED } from './metrics.ts';

export interface HeldOut {
  /** Where the split came from. */
  from: 'cache' | 'labels';
  /** Test identities in a fixed order, each with candidate photos (absolute paths, sorted). */
  identities: { identity: string; photos: string[] }[];
}

const readCsv = (file: string) => fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(1).map((l) => l.split(',').map((c) => c.trim()));
const IMAGE = /\.(jpe?g|png|webp)$/i;

/** Every labelled photo by identity, labelled as models/data/prepare.ts labels them. */
export function labelledPhotos(facesDir: string): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  const add = (id: string, file: string) => byId.set(id, [...(byId.get(id) ?? []), file]);
  const celeba = path.join(facesDir, 'celeba-subset');
  if (fs.existsSync(celeba)) {
    const images = new Set(fs.readdirSync(path.join(celeba, 'images')).filter((f) => IMAGE.test(f)));
    for (const [image, id] of readCsv(path.join(celeba, 'identities.csv'))) {
      // A label without its image still counts as an identity (prepare.ts ranks only survivors, a superset is safe).
      if (images.has(image!)) add(`celeba:${id}`, path.join(celeba, 'images', image!));
      else if (!byId.has(`celeba:${id}`)) byId.set(`celeba:${id}`, []);
    }
  }
  const deepface = path.join(facesDir, 'deepface-pairs');
  if (fs.existsSync(deepface)) {
    const files = fs.readdirSync(deepface).filter((f) => IMAGE.test(f)).sort();
    const master = path.join(deepface, 'master.csv');
    const yes = fs.existsSync(master)
      ? readCsv(master).filter((r) => r[2]?.toLowerCase() === 'yes').map((r) => [r[0]!, r[1]!] as [string, string])
      : [];
    const groups = groupPairs(files, yes);
    for (const f of files) add(`deepface:${groups.get(f)}`, path.join(deepface, f));
  }
  for (const photos of byId.values()) photos.sort();
  return byId;
}

export function defaultCacheIndex(): string {
  return path.join(process.env.GUISE_CACHE ?? path.join(os.homedir(), '.cache/guise'), 'faces-v1/index.json');
}

/**
 * The held-out identities. With the prepared cache: its test rows (photos that
 * passed the app's photo rules there), identities in hash order of the split.
 * Without: certainTestIdentities over the labels, with all their photos.
 */
export function heldOutIdentities(facesDir: string, cacheIndex: string | null = defaultCacheIndex()): HeldOut {
  const labelled = labelledPhotos(facesDir);
  if (!labelled.size) throw new Error(`no labelled face photos under ${facesDir}`);
  const ranked = certainTestIdentities(labelled.keys(), FACES_SEED, labelled.size); // every identity, in split order
  if (cacheIndex && fs.existsSync(cacheIndex)) {
    const rows = (JSON.parse(fs.readFileSync(cacheIndex, 'utf8')) as { rows: { file: string; identity: string; split: string }[] }).rows;
    const test = new Map<string, string[]>();
    for (const r of rows) {
      if (r.split !== 'test') continue;
      const file = path.join(facesDir, r.file);
      if (fs.existsSync(file)) test.set(r.identity, [...(test.get(r.identity) ?? []), file]);
    }
    if (test.size) {
      return { from: 'cache', identities: ranked.filter((id) => test.has(id)).map((id) => ({ identity: id, photos: test.get(id)!.sort() })) };
    }
  }
  return {
    from: 'labels',
    identities: certainTestIdentities(labelled.keys()).map((id) => ({ identity: id, photos: labelled.get(id)! })).filter((i) => i.photos.length),
  };
}
