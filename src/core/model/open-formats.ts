/**
 * Opening a checkpoint in any supported format, from bytes. Pure: Node reads a folder or a
 * file, the page would fetch, and both call this.
 * - Hugging Face folder: config.json, model.safetensors or model.safetensors.index.json with
 *   its shards, tokenizer.json (+ tokenizer_config.json) or a SentencePiece tokenizer.model.
 * - GGUF: one file, the tokenizer embedded.
 * `provenanceFile` names the file whose sha256 identifies the weights: model.safetensors; for
 * a sharded checkpoint the first shard (its hash is on the hub's file page, while the index is
 * byte-identical across fine-tunes of one base model); the .gguf itself.
 * Weights files (.safetensors, .gguf) are opened through `FileSource.open` when the source has
 * it (Node: a FileHandle, so files over 2 GiB load tensor by tensor), else read whole.
 */
import { LenspressError } from '../errors.ts';
import { type ByteSource, bufferSource } from '../formats/byte-source.ts';
import { type GgufFile, openGguf, parseGguf } from '../formats/gguf.ts';
import { ggufToModel } from '../formats/gguf-model.ts';
import { hfTorchDtype, parseHfConfig } from '../formats/hf-config.ts';
import { hfWeightsDtype, loadHfWeights, parseSafetensorsIndex } from '../formats/hf-weights.ts';
import { openSafetensors, parseSafetensors, type SafetensorsFile } from '../formats/safetensors.ts';
import { createTokenizerFromGguf } from '../tokenizer/gguf-tokenizer.ts';
import { createHfTokenizer } from '../tokenizer/hf-tokenizer.ts';
import { createTokenizerFromLlama2cVocab, createTokenizerFromSentencePieceModel } from '../tokenizer/load.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { OpenedModel } from './open.ts';

/** A folder's files by name; null when the file does not exist. */
export interface FileSource {
  /** Shown in messages (e.g. the folder's path). */
  readonly name: string;
  read(file: string): Promise<Uint8Array | null>;
  /** Random access to a (large) weights file; without it, weights files are read whole with `read`. */
  open?(file: string): Promise<ByteSource | null>;
}

export interface OpenedCheckpoint extends OpenedModel {
  /** e.g. "Hugging Face safetensors (bfloat16, 2 shards)", "GGUF v3 (Q8_0)". */
  format: string;
  /** The file whose sha256 identifies the weights; `bytes` when it was read whole. */
  provenanceFile: { name: string; source: ByteSource; bytes?: Uint8Array };
}

export interface OpenOptions {
  /** Use this tokenizer instead of the checkpoint's own (--tokenizer); called with the model's vocabulary size. */
  tokenizer?: (dVocab: number) => TextTokenizer | Promise<TextTokenizer>;
  /** GGUF: keep Q8_0/Q4_0 projections quantised (MatMulNBits in the graph); default true. */
  quantized?: boolean;
}

const join = (dir: string, file: string) => `${dir.replace(/[/\\]$/, '')}/${file}`;

function parseJson(bytes: Uint8Array, fileName: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LenspressError('bad-config', `${fileName}: not valid JSON (${(e as Error).message})`);
  }
}

type Provenance = OpenedCheckpoint['provenanceFile'];

/** A safetensors file through `open` when the FileSource has it, else read whole; null when absent. */
async function openShard(src: FileSource, file: string): Promise<{ st: SafetensorsFile; provenance: Provenance } | null> {
  const name = join(src.name, file);
  if (src.open) {
    const source = await src.open(file);
    return source && { st: await openSafetensors(source, name), provenance: { name, source } };
  }
  const bytes = await src.read(file);
  return bytes && { st: parseSafetensors(bytes, name), provenance: { name, source: bufferSource(bytes, name), bytes } };
}

export async function openHfFolder(src: FileSource, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  const path = (f: string) => join(src.name, f);
  const configBytes = await src.read('config.json');
  if (!configBytes) throw new LenspressError('missing-file', `${path('config.json')} not found: a Hugging Face model folder needs config.json beside its .safetensors files`);
  const configJson = parseJson(configBytes, path('config.json'));

  let shards: SafetensorsFile[];
  let weightMap: Map<string, string> | undefined;
  let provenance: Provenance;
  const single = await openShard(src, 'model.safetensors');
  if (single) {
    shards = [single.st];
    provenance = single.provenance;
  } else {
    const indexBytes = await src.read('model.safetensors.index.json');
    if (!indexBytes) {
      throw new LenspressError('missing-file', `${src.name}: no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not read: convert them to safetensors)`);
    }
    const indexName = path('model.safetensors.index.json');
    weightMap = parseSafetensorsIndex(indexBytes, indexName);
    const files = [...new Set(weightMap.values())].sort();
    shards = [];
    for (const f of files) {
      const shard = await openShard(src, f);
      if (!shard) {
        const example = [...weightMap].find(([, s]) => s === f)![0];
        throw new LenspressError('missing-file', `${indexName} names shard ${f} (holding e.g. tensor ${example}), but ${path(f)} does not exist`);
      }
      shards.push(shard.st);
      if (shards.length === 1) provenance = shard.provenance;
    }
  }

  const weightsDtype = hfWeightsDtype(shards);
  const config = parseHfConfig(configJson, path('config.json'), { weightsDtype });
  const torchDtype = hfTorchDtype(configJson);
  const weights = loadHfWeights(config, shards, { weightMap, configName: path('config.json'), indexName: path('model.safetensors.index.json'), torchDtype });
  const model = { config, weights };

  const tokenizer = opts.tokenizer ? await opts.tokenizer(config.d_vocab) : await folderTokenizer(src, config.bos_token_id, config.eos_token_id);
  checkVocab(tokenizer, config.d_vocab, src.name);
  const dtypes = config.source_dtype;
  const format = `Hugging Face safetensors (${dtypes}${shards.length > 1 ? `, ${shards.length} shards` : ''})`;
  return { model, tokenizer, format, provenanceFile: provenance! };
}

async function folderTokenizer(src: FileSource, bos: number, eos: number): Promise<TextTokenizer> {
  const json = await src.read('tokenizer.json');
  if (json) {
    const cfg = await src.read('tokenizer_config.json');
    return createHfTokenizer({
      tokenizerJson: json, tokenizerConfig: cfg,
      names: { tokenizer: join(src.name, 'tokenizer.json'), config: join(src.name, 'tokenizer_config.json') },
      fallbackIds: { bos, eos },
    });
  }
  const sp = await src.read('tokenizer.model');
  if (sp) return createTokenizerFromSentencePieceModel(sp, join(src.name, 'tokenizer.model'));
  throw new LenspressError('missing-file', `${src.name}: no tokenizer.json or tokenizer.model; add one or pass --tokenizer`);
}

export async function openGgufBytes(bytes: Uint8Array, fileName: string, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  return ggufCheckpoint(parseGguf(bytes, fileName), { name: fileName, source: bufferSource(bytes, fileName), bytes }, opts);
}

/** A GGUF file through a source: the header from a prefix, then tensor by tensor (files over 2 GiB). */
export async function openGgufSource(source: ByteSource, fileName: string, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  return ggufCheckpoint(await openGguf(source, { fileName }), { name: fileName, source }, opts);
}

async function ggufCheckpoint(file: GgufFile, provenance: Provenance, opts: OpenOptions): Promise<OpenedCheckpoint> {
  const fileName = file.fileName;
  const model = ggufToModel(file, { quantized: opts.quantized });
  const tokenizer = opts.tokenizer ? await opts.tokenizer(model.config.d_vocab) : createTokenizerFromGguf(file);
  checkVocab(tokenizer, model.config.d_vocab, fileName);
  return { model, tokenizer, format: `GGUF v${file.version} (${model.config.source_dtype})`, provenanceFile: provenance };
}

/** A tokenizer may have fewer tokens than the embedding has rows (padded vocabularies), never more. */
function checkVocab(tokenizer: TextTokenizer, dVocab: number, where: string): void {
  if (tokenizer.vocabSize > dVocab) {
    throw new LenspressError('bad-tokenizer', `${where}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${dVocab} rows`);
  }
}

/**
 * A tokenizer named on its own (--tokenizer), by file name: SentencePiece `.model`, llama2.c
 * `.bin` (needs the model's vocabulary size), or Hugging Face `tokenizer.json` (with its
 * tokenizer_config.json bytes when there is one).
 */
export function tokenizerFromFile(name: string, bytes: Uint8Array, dVocab: number, tokenizerConfig?: Uint8Array | null): TextTokenizer {
  if (name.endsWith('.model')) return createTokenizerFromSentencePieceModel(bytes, name);
  if (name.endsWith('.bin')) return createTokenizerFromLlama2cVocab(bytes, dVocab, name);
  if (name.endsWith('.json')) return createHfTokenizer({ tokenizerJson: bytes, tokenizerConfig, names: { tokenizer: name } });
  throw new LenspressError('unsupported-tokenizer', `${name}: expected a SentencePiece .model, a llama2.c .bin or a Hugging Face tokenizer.json`);
}
