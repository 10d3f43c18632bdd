/**
 * The site's list of models a reader can pick in a figure's run panel (src/site/models.json),
 * validated with zod at build time: a bad entry fails the build with what was expected. Each
 * entry carries enough of the model's shape for a memory estimate before anything downloads.
 */
import { z } from 'zod';
import { LenspressError } from '../core/errors.ts';
import { parseHubId } from '../core/hub/hub-id.ts';
import type { PickerModel } from './picker-model.ts';

export { type PickerModel, pickerConfig } from './picker-model.ts';

const positive = z.number().int().positive();

function isGgufId(hub: string): boolean {
  try {
    return parseHubId(hub).file?.endsWith('.gguf') ?? false;
  } catch {
    return false; // a bad id is reported by the hub field's own check
  }
}

export const PickerModelSchema = z
  .object({
    name: z.string().min(1),
    hub: z.string().refine((s) => {
      try {
        parseHubId(s);
        return true;
      } catch {
        return false;
      }
    }, 'expected a hub id: org/name, org/name@revision or org/name:file.gguf'),
    format: z.enum(['hf', 'gguf']),
    /** Bytes to download, as the hub lists them (rounded). */
    bytes: positive,
    parameters: positive,
    dtype: z.enum(['float32', 'float16', 'bfloat16', 'q8_0', 'q4_0']),
    config: z.object({ d_model: positive, d_mlp: positive, n_layers: positive, n_heads: positive, n_kv_heads: positive, d_head: positive, d_vocab: positive, tied_embeddings: z.boolean() }).strict(),
  })
  .strict()
  .refine((m) => (m.format === 'gguf') === isGgufId(m.hub), { message: 'format "gguf" goes with a hub id naming a .gguf file (org/name:file.gguf), and only then' });

export const PickerModels = z.object({ note: z.string(), models: z.array(PickerModelSchema) }).strict();

export function parsePickerModels(json: unknown, fileName = 'src/site/models.json'): { note: string; models: PickerModel[] } {
  const r = PickerModels.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LenspressError('bad-model-list', `${fileName}: ${issues}`);
  }
  return r.data;
}
