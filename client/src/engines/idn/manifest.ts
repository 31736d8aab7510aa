// What models/idn/<variant>/manifest.json says about an exported IDN. The main
// thread reads it to decide whether to offer the engine; the worker to run it.
export interface IdnManifest {
  crop: number;
  guide_channels: number;
  /** 3 + guide_channels, where the exporter wrote it. */
  input_channels?: number;
  weights: 'random' | 'trained' | 'converted';
}

/** The manifest, or null where the build ships no neural model (the probe then answers 404). */
export async function fetchIdnManifest(base: string): Promise<IdnManifest | null> {
  try {
    const res = await fetch(`${base}manifest.json`);
    if (!res.ok) return null;
    const m = (await res.json()) as Partial<IdnManifest>;
    return typeof m.crop === 'number' && typeof m.weights === 'string' ? { guide_channels: 0, ...m } as IdnManifest : null;
  } catch {
    return null;
  }
}
