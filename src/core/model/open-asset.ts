/**
 * Opening a model from its files' bytes, whatever its format — what the page's Worker does
 * after downloading a ModelAsset. Node opens paths instead (src/node/open-model.ts); both end
 * in the same parsers.
 */
import { LenspressError } from '../errors.ts';
import { type OpenedModel, openLlama2c } from './open.ts';
import { openGgufBytes, openHfFolder } from './open-formats.ts';

export type AssetFormat = 'llama2c' | 'hf' | 'gguf';

/** A file of a model as the site serves it. */
export interface AssetFile {
  /** The file's name in the checkpoint (config.json, model-00001-of-00002.safetensors, …). */
  name: string;
  url: string;
  bytes: number;
  sha256?: string;
  /** The weights file whose sha256 a figure cites (llama2c: the .bin; gguf: the file). */
  role?: 'weights' | 'tokenizer';
}

export async function openAssetFiles(name: string, format: AssetFormat, files: ReadonlyMap<string, Uint8Array>, manifest: readonly AssetFile[]): Promise<OpenedModel> {
  if (format === 'hf') return openHfFolder({ name, read: async (f) => files.get(f) ?? null });
  const weights = manifest.find((f) => f.role === 'weights');
  if (!weights || !files.has(weights.name)) throw new LenspressError('missing-file', `${name}: no weights file among ${[...files.keys()].join(', ')}`);
  if (format === 'gguf') return openGgufBytes(files.get(weights.name)!, weights.name);
  const tok = manifest.find((f) => f.role === 'tokenizer');
  if (!tok || !files.has(tok.name)) throw new LenspressError('missing-file', `${name}: a llama2.c checkpoint needs its tokenizer (tokenizer.model or tokenizer.bin) beside it`);
  return openLlama2c(files.get(weights.name)!, { bytes: files.get(tok.name)!, name: tok.name }, weights.name);
}
