/**
 * A model from the reader's own disk (<input type=file>, or a folder with webkitdirectory):
 * which files make which format, and its shape before reading the weights (config.json, or
 * the 28-byte llama2.c header, a GGUF's header) for the memory estimate. The Worker reads the files; nothing
 * leaves the device.
 */
import { LenspressError } from '../core/errors.ts';
import { openGgufHeader } from '../core/formats/gguf.ts';
import { ggufConfig, ggufProjectionBytes } from '../core/formats/gguf-model.ts';
import { parseHfConfig } from '../core/formats/hf-config.ts';
import type { ProjectionBytes } from '../core/model/memory.ts';
import { blobSource } from './blob-source.ts';
import { LLAMA_DEFAULTS, type ModelConfig } from '../core/model/config.ts';
import type { AssetFile, AssetFormat } from '../core/model/open-asset.ts';

export interface LocalPlan {
  name: string;
  format: AssetFormat;
  formatLabel: string;
  /** The files to read, named as the loaders expect them (role marks the weights and tokenizer). */
  files: { file: File; manifest: Omit<AssetFile, 'url'> & { readWhole?: boolean } }[];
}

const TOKENIZERS = /^(tokenizer\.model|tokenizer\.bin|tok\d*\.model|tok\d*\.bin)$/;
const HF_FILE = /^(config\.json|tokenizer\.json|tokenizer_config\.json|tokenizer\.model|model\.safetensors|model\.safetensors\.index\.json|model-\d{5}-of-\d{5}\.safetensors)$/;

export function planLocal(files: readonly File[]): LocalPlan {
  const entry = (file: File, role?: AssetFile['role']) => ({ file, manifest: { name: file.name, bytes: file.size, ...(role ? { role } : {}) } });
  const folder = (files[0]?.webkitRelativePath ?? '').split('/')[0] || undefined;
  const gguf = files.find((f) => f.name.endsWith('.gguf'));
  if (gguf) return { name: gguf.name, format: 'gguf', formatLabel: 'GGUF (local file)', files: [entry(gguf, 'weights')] };
  const config = files.find((f) => f.name === 'config.json');
  if (config) {
    const hf = files.filter((f) => HF_FILE.test(f.name));
    const weights = hf.find((f) => f.name === 'model.safetensors') ?? hf.filter((f) => /^model-\d{5}-of/.test(f.name)).sort((a, b) => a.name.localeCompare(b.name))[0];
    if (!weights) throw new LenspressError('missing-file', `the chosen files have config.json but no model.safetensors or model-0000k-of-0000n.safetensors shards: choose the whole Hugging Face folder`);
    return { name: folder ?? 'local Hugging Face folder', format: 'hf', formatLabel: 'Hugging Face safetensors (local folder)', files: hf.map((f) => entry(f, f === weights ? 'weights' : undefined)) };
  }
  const bin = files.find((f) => f.name.endsWith('.bin') && !TOKENIZERS.test(f.name));
  if (bin) {
    const tok = files.find((f) => TOKENIZERS.test(f.name));
    if (!tok) throw new LenspressError('missing-file', `${bin.name} looks like a llama2.c checkpoint: choose its tokenizer (tokenizer.model, tokenizer.bin, tok512.model …) with it`);
    const weights = entry(bin, 'weights');
    // A llama2.c checkpoint is read whole (one buffer): decideFit refuses one over 2 GiB.
    return { name: bin.name.replace(/\.bin$/, ''), format: 'llama2c', formatLabel: 'llama2.c .bin (local file)', files: [{ ...weights, manifest: { ...weights.manifest, readWhole: true } }, entry(tok, 'tokenizer')] };
  }
  throw new LenspressError('unknown-model', `cannot tell a model from ${files.map((f) => f.name).join(', ') || 'no files'}: choose a .gguf file, a llama2.c .bin with its tokenizer, or a Hugging Face folder (config.json, model.safetensors, tokenizer.json)`);
}

/** llama2.c's header: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative when the classifier is not shared —, seq_len). */
export function llama2cHeaderConfig(header: Uint8Array): ModelConfig | undefined {
  if (header.byteLength < 28) return undefined;
  const v = new DataView(header.buffer, header.byteOffset, 28);
  const [dim, hidden, layers, heads, kvHeads, vocab, seq] = Array.from({ length: 7 }, (_, i) => v.getInt32(i * 4, true));
  if (![dim, hidden, layers, heads, kvHeads, seq].every((x) => x > 0 && x < 1e6) || vocab === 0 || dim % heads !== 0) return undefined;
  return {
    arch: 'llama', d_model: dim, d_mlp: hidden, n_layers: layers, n_heads: heads, n_kv_heads: kvHeads, d_head: dim / heads, d_vocab: Math.abs(vocab), n_ctx: seq,
    norm_eps: 1e-5, rope_theta: 10000, rope_style: 'interleaved', tied_embeddings: vocab > 0, bos_token_id: 1, eos_token_id: 2, ...LLAMA_DEFAULTS,
  };
}

/** The model's shape before its weights are read: config.json, the 28-byte llama2.c header, or a GGUF's header (with each projection's type). */
export async function localShape(plan: LocalPlan): Promise<{ config: ModelConfig; projections?: ProjectionBytes } | undefined> {
  if (plan.format === 'hf') {
    const config = plan.files.find((f) => f.manifest.name === 'config.json')!.file;
    return { config: parseHfConfig(JSON.parse(await config.text())) };
  }
  const w = plan.files.find((f) => f.manifest.role === 'weights')!.file;
  if (plan.format === 'llama2c') {
    const config = llama2cHeaderConfig(new Uint8Array(await w.slice(0, 28).arrayBuffer()));
    return config && { config };
  }
  const header = await openGgufHeader(blobSource(w, w.name));
  const config = ggufConfig(header);
  return { config, projections: ggufProjectionBytes(header, config) };
}
