// What models/idn/<variant>/manifest.json says about an exported IDN. The main
// thread reads it to decide whether to offer the engine (and to show the
// model's provenance in the About box); the worker to run it; the offline
// pack CLI to build packs for it. It is untrusted input: parsed with zod,
// every string bounded.
import { z } from 'zod';

/** The largest manifest.json read (the exporter's is about 7 KB). */
export const MAX_MANIFEST_BYTES = 256 * 1024;

/**
 * The model's provenance and terms, shown as given in the About box. E.g.
 * terms: "Trained on a subset of CelebA: non-commercial research use only;
 * the weights inherit these terms."
 */
export const idnAboutSchema = z.object({
  title: z.string().min(1).max(200),
  data: z.string().min(1).max(2000),
  terms: z.string().min(1).max(2000),
  card: z.string().min(1).max(2000),
});
export type IdnAbout = z.infer<typeof idnAboutSchema>;

const valueSchema = z.object({
  name: z.string().max(256),
  shape: z.array(z.number().int().nonnegative()).max(8),
});

const manifestSchema = z.object({
  crop: z.number().int().positive().max(4096),
  guide_channels: z.number().int().nonnegative().max(64).default(0),
  /** 3 + guide_channels, where the exporter wrote it. */
  input_channels: z.number().int().positive().max(64).optional(),
  /** "random", "trained" or "converted" from the exporter. */
  weights: z.string().min(1).max(200),
  about: idnAboutSchema.optional(),
  /** Per ONNX file: its graph inputs and outputs (the conditioner's outputs are a pack's tensors). */
  files: z.record(z.string().max(256), z.object({
    inputs: z.array(valueSchema).max(64).optional(),
    outputs: z.array(valueSchema).max(64).optional(),
    /** The file's size and SHA-256 (lowercase hex): the client checks and caches the download by them. */
    bytes: z.number().int().nonnegative().max(2 ** 32).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })).optional(),
});

export type IdnManifest = z.infer<typeof manifestSchema>;

/** A parsed manifest and the model's identity: packs are made for, and cached per, exactly one model. */
export interface IdnModel {
  manifest: IdnManifest;
  /** A hash of manifest.json's bytes (which name the weight files' hashes, where the exporter wrote them). */
  id: string;
}

/** The model identity of a manifest: the first 16 hex digits of the SHA-256 of its bytes. */
export async function idnModelId(manifestBytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', manifestBytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Parses manifest.json's bytes; throws with what is wrong. */
export async function parseIdnManifest(bytes: Uint8Array): Promise<IdnModel> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new Error(`manifest.json is ${bytes.byteLength} bytes, over ${MAX_MANIFEST_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error('manifest.json is not valid UTF-8 JSON');
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ');
    throw new Error(`manifest.json is invalid: ${issues}`);
  }
  return { manifest: parsed.data, id: await idnModelId(bytes) };
}

/** The model, or null where the build ships none (the probe then answers 404) or its manifest is invalid. */
export async function fetchIdnManifest(base: string): Promise<IdnModel | null> {
  let bytes: Uint8Array;
  try {
    const res = await fetch(`${base}manifest.json`);
    if (!res.ok) return null;
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch {
    return null;
  }
  try {
    return await parseIdnManifest(bytes);
  } catch (err) {
    console.warn(`neural swap model not used: ${(err as Error).message}`);
    return null;
  }
}

/** What the About box says of a model without `about`: its manifest's `weights` field. */
export function describeWeights(weights: string): string {
  return weights === 'random' ? 'random weights (testing only)' : `${weights} weights (the model's manifest gives no provenance or terms)`;
}
