import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The read-only kit beside the checkout: test videos and photos are read from here, never committed. */
export const sharedKit = process.env.GUISE_SHARED_KIT ?? path.resolve(repoRoot, '../shared');
export const cacheDir = path.join(process.env.GUISE_CACHE ?? path.join(os.homedir(), '.cache/guise'), 'e2e');
