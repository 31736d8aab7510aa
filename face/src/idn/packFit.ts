// Whether an identity pack fits the loaded neural model. A pack is the output
// of one model's identity encoder and conditioner, so it is only valid for
// that model: one cached under another (a 3-channel or random model, an
// earlier trained one) would throw on the first frame or swap wrongly.
// Packs name their model (meta.model, the manifest's hash); the tensors are
// also checked against what the manifest says the generator takes.
import { tensor, type IdentityPack } from '../pack.ts';
import { guideSource } from './guide.ts';
import type { IdnModel } from './manifest.ts';
import { IDENTITY_TENSORS } from './tensors.ts';

/** The meta every idn pack carries, from the model it was made with. */
export function idnPackMeta(model: IdnModel): { crop: number; weights: string; guide_channels: number; model: string } {
  return { crop: model.manifest.crop, weights: model.manifest.weights, guide_channels: model.manifest.guide_channels, model: model.id };
}

/** Null where `pack` fits `model`, else why not (for a message that says the identity is prepared again). */
export function idnPackProblem(pack: IdentityPack, model: IdnModel): string | null {
  if (pack.engine !== 'idn') return `it was made for the ${pack.engine} engine`;
  const made = pack.meta.model;
  if (typeof made !== 'string') return 'it does not say which neural model made it';
  if (made !== model.id) return `it was made with another neural model (${made.slice(0, 64)}, the loaded one is ${model.id})`;
  const shapes = new Map((model.manifest.files?.['conditioner.onnx']?.outputs ?? []).map((o) => [o.name, o.shape]));
  for (const name of IDENTITY_TENSORS) {
    let t;
    try { t = tensor(pack, name); } catch (err) { return (err as Error).message; }
    if (t.dtype === 'u8') return `its tensor "${name}" is u8, expected f16 or f32`;
    const want = shapes.get(name);
    if (want && (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i]))) {
      return `its tensor "${name}" has shape [${t.shape.join(', ')}], the model takes [${want.join(', ')}]`;
    }
  }
  if (model.manifest.guide_channels) {
    try { guideSource(pack); } catch (err) { return (err as Error).message; }
  }
  return null;
}
