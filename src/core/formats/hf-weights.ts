/**
 * Hugging Face tensor names ⇄ ModelWeights (transformers' LlamaForCausalLM layout, shared by
 * Mistral, Gemma and Qwen2): `model.embed_tokens.weight`, `model.layers.{l}.self_attn.
 * {q,k,v,o}_proj.weight` (+ q/k/v `.bias` for Qwen2), `mlp.{gate,up,down}_proj.weight`,
 * `input_layernorm.weight`, `post_attention_layernorm.weight`, `model.norm.weight`,
 * `lm_head.weight` (absent when tied). Linear weights are [out, in] as ModelWeights holds them.
 *
 * Gemma's RMSNorm multiplies by (1 + γ) computed in float32 (`1.0 + self.weight.float()`), so
 * 1 + γ is folded in at load time and γ = w − 1 written back (exact in float32 for w in [½, 2]).
 *
 * Every tensor is checked against the config before it is read: a missing tensor, a shape
 * that contradicts config.json, a dtype that config.json's torch_dtype cannot hold exactly, or
 * a tensor no part of the model uses (an o_proj bias would otherwise be silently ignored) is an
 * error naming the file and the tensor. Sharded checkpoints: `model.safetensors.index.json`.
 */
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import type { BlockWeights, LoadedModel, ModelWeights } from '../model/weights.ts';
import { floatBlock } from '../model/quantized.ts';
import type { HfDtype } from './hf-config.ts';
import { ropeRowsToHalf } from './rope-permute.ts';
import { readSafetensor, type SafetensorsFile } from './safetensors.ts';
import type { TensorToWrite, WritableDtype } from './safetensors-writer.ts';

export const EMBED = 'model.embed_tokens.weight';
const baseName = (p: string) => p.split(/[/\\]/).pop() ?? p;
const DTYPE_OF: Record<string, HfDtype> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const ST_DTYPE: Record<HfDtype, WritableDtype> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };
/** Buffers some checkpoints carry that hold no weights (recomputed from the config). */
const IGNORED = /\.rotary_emb\.inv_freq$/;

/** `model.safetensors.index.json` → tensor name → shard file name. */
export function parseSafetensorsIndex(bytes: Uint8Array, fileName = 'model.safetensors.index.json'): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LenspressError('bad-index', `${fileName}: not valid JSON (${(e as Error).message}); expected {"weight_map": {tensor: shard file}}`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new LenspressError('bad-index', `${fileName}: no "weight_map" object; expected {"weight_map": {tensor: shard file}}`);
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    // a shard name is a plain file name in the same folder: no paths out of it
    if (typeof shard !== 'string' || shard === '' || /[/\\]|^\.\.?$/.test(shard)) throw new LenspressError('bad-index', `${fileName}: tensor ${name} maps to ${JSON.stringify(shard)}, expected a file name in the same folder`);
    out.set(name, shard);
  }
  if (out.size === 0) throw new LenspressError('bad-index', `${fileName}: weight_map is empty`);
  return out;
}

/** The dtype of the token embedding: the checkpoint's dtype when config.json does not say. */
export function hfWeightsDtype(shards: readonly SafetensorsFile[]): HfDtype | undefined {
  for (const s of shards) {
    const t = s.tensors.get(EMBED);
    if (t) return DTYPE_OF[t.dtype];
  }
  return undefined;
}

interface Expected {
  name: string;
  shape: number[];
  why: string;
}

function expectedTensors(c: ModelConfig): Expected[] {
  const q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head, d = c.d_model;
  const qWhy = `num_attention_heads ${c.n_heads} × head_dim ${c.d_head}, hidden_size ${d}`;
  const kvWhy = `num_key_value_heads ${c.n_kv_heads} × head_dim ${c.d_head}, hidden_size ${d}`;
  const out: Expected[] = [{ name: EMBED, shape: [c.d_vocab, d], why: `vocab_size ${c.d_vocab}, hidden_size ${d}` }];
  for (let l = 0; l < c.n_layers; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [d], why: `hidden_size ${d}` },
      { name: `${p}self_attn.q_proj.weight`, shape: [q, d], why: qWhy },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, d], why: kvWhy },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, d], why: kvWhy },
    );
    if (c.attn_bias) {
      out.push(
        { name: `${p}self_attn.q_proj.bias`, shape: [q], why: qWhy },
        { name: `${p}self_attn.k_proj.bias`, shape: [kv], why: kvWhy },
        { name: `${p}self_attn.v_proj.bias`, shape: [kv], why: kvWhy },
      );
    }
    out.push(
      { name: `${p}self_attn.o_proj.weight`, shape: [d, q], why: `hidden_size ${d}, ${qWhy}` },
      { name: `${p}post_attention_layernorm.weight`, shape: [d], why: `hidden_size ${d}` },
      { name: `${p}mlp.gate_proj.weight`, shape: [c.d_mlp, d], why: `intermediate_size ${c.d_mlp}, hidden_size ${d}` },
      { name: `${p}mlp.up_proj.weight`, shape: [c.d_mlp, d], why: `intermediate_size ${c.d_mlp}, hidden_size ${d}` },
      { name: `${p}mlp.down_proj.weight`, shape: [d, c.d_mlp], why: `hidden_size ${d}, intermediate_size ${c.d_mlp}` },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [d], why: `hidden_size ${d}` });
  if (!c.tied_embeddings) out.push({ name: 'lm_head.weight', shape: [c.d_vocab, d], why: `vocab_size ${c.d_vocab}, hidden_size ${d} (tie_word_embeddings false)` });
  return out;
}

export interface HfLoadOptions {
  /** From model.safetensors.index.json, when sharded: checked against the shards' headers. */
  weightMap?: Map<string, string>;
  indexName?: string;
  configName?: string;
  /** config.json's torch_dtype, if it names one. */
  torchDtype?: HfDtype;
}

export function loadHfWeights(c: ModelConfig, shards: readonly SafetensorsFile[], opts: HfLoadOptions = {}): ModelWeights {
  const configName = opts.configName ?? 'config.json';
  const where = new Map<string, SafetensorsFile>();
  for (const s of shards) {
    for (const name of s.tensors.keys()) {
      const other = where.get(name);
      if (other) throw new LenspressError('bad-checkpoint', `${s.fileName}: tensor ${name} is also in ${other.fileName}; a tensor must be stored once`);
      where.set(name, s);
    }
  }
  if (opts.weightMap) {
    const indexName = opts.indexName ?? 'model.safetensors.index.json';
    for (const [name, shard] of opts.weightMap) {
      const s = where.get(name);
      if (!s || baseName(s.fileName) !== shard) throw new LenspressError('bad-checkpoint', `${indexName}: tensor ${name} is mapped to ${shard}, but ${s ? `it is in ${s.fileName}` : `${shard} has no such tensor`}`);
    }
  }

  const expected = expectedTensors(c);
  const tensors = new Map<string, Float32Array>();
  for (const e of expected) {
    const s = where.get(e.name);
    if (!s) {
      const files = shards.map((f) => f.fileName).join(', ');
      throw new LenspressError('missing-tensor', `${files}: tensor ${e.name} is missing; ${configName} (${c.arch}, ${c.n_layers} layers${c.tied_embeddings ? '' : ', untied lm_head'}) needs it, shape [${e.shape.join(', ')}]`);
    }
    const t = s.tensors.get(e.name)!;
    if (t.shape.length !== e.shape.length || t.shape.some((v, i) => v !== e.shape[i])) {
      throw new LenspressError('shape-mismatch', `${s.fileName}: tensor ${e.name} has shape [${t.shape.join(', ')}], but ${configName} implies [${e.shape.join(', ')}] (${e.why})`);
    }
    const dt = DTYPE_OF[t.dtype];
    if (!dt) throw new LenspressError('unsupported-dtype', `${s.fileName}: tensor ${e.name} has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
    if (opts.torchDtype && opts.torchDtype !== 'float32' && dt !== opts.torchDtype) {
      throw new LenspressError('dtype-mismatch', `${s.fileName}: tensor ${e.name} is ${t.dtype}, but ${configName} says torch_dtype ${opts.torchDtype}, which cannot hold it exactly`);
    }
    tensors.set(e.name, readSafetensor(s, e.name));
  }
  for (const [name, s] of where) {
    if (tensors.has(name) || IGNORED.test(name) || (name === 'lm_head.weight' && c.tied_embeddings)) continue;
    throw new LenspressError('unexpected-tensor', `${s.fileName}: tensor ${name} is not part of a ${c.arch} model as ${configName} describes it; Lenspress would ignore it and compute something else`);
  }

  const get = (n: string) => tensors.get(n)!;
  // Gemma: the norm multiplies by 1 + γ, summed in float32 as transformers does.
  const norm = (n: string) => (c.arch === 'gemma' ? Float32Array.from(get(n), (g) => 1 + g) : get(n));
  const blocks: BlockWeights[] = Array.from({ length: c.n_layers }, (_, l) => {
    const p = `model.layers.${l}.`;
    return {
      ln1_w: norm(`${p}input_layernorm.weight`),
      W_Q: get(`${p}self_attn.q_proj.weight`),
      W_K: get(`${p}self_attn.k_proj.weight`),
      W_V: get(`${p}self_attn.v_proj.weight`),
      W_O: get(`${p}self_attn.o_proj.weight`),
      ...(c.attn_bias ? { b_Q: get(`${p}self_attn.q_proj.bias`), b_K: get(`${p}self_attn.k_proj.bias`), b_V: get(`${p}self_attn.v_proj.bias`) } : {}),
      ln2_w: norm(`${p}post_attention_layernorm.weight`),
      W_gate: get(`${p}mlp.gate_proj.weight`),
      W_in: get(`${p}mlp.up_proj.weight`),
      W_out: get(`${p}mlp.down_proj.weight`),
    };
  });
  const W_E = get(EMBED);
  return { W_E, blocks, ln_final_w: norm('model.norm.weight'), W_U: c.tied_embeddings ? W_E : get('lm_head.weight') };
}

/**
 * The tensors transformers would save for `model`, in its order, stored as `dtype`.
 * Interleaved-RoPE weights (llama2.c, GGUF) are permuted to Hugging Face's pairing.
 */
export function hfTensorsFromModel({ config: c, weights: w }: LoadedModel, dtype: HfDtype): TensorToWrite[] {
  const st = ST_DTYPE[dtype];
  const data = new Map<string, Float32Array>();
  const toHalf = (m: Float32Array, heads: number, cols: number) => (c.rope_style === 'interleaved' ? ropeRowsToHalf(m, heads, c.d_head, cols) : m);
  const gamma = (m: Float32Array) => (c.arch === 'gemma' ? Float32Array.from(m, (v) => v - 1) : m);
  data.set(EMBED, w.W_E);
  w.blocks.map(floatBlock).forEach((b, l) => {
    const p = `model.layers.${l}.`;
    data.set(`${p}input_layernorm.weight`, gamma(b.ln1_w));
    data.set(`${p}self_attn.q_proj.weight`, toHalf(b.W_Q, c.n_heads, c.d_model));
    data.set(`${p}self_attn.k_proj.weight`, toHalf(b.W_K, c.n_kv_heads, c.d_model));
    data.set(`${p}self_attn.v_proj.weight`, b.W_V);
    if (c.attn_bias) {
      data.set(`${p}self_attn.q_proj.bias`, toHalf(b.b_Q!, c.n_heads, 1));
      data.set(`${p}self_attn.k_proj.bias`, toHalf(b.b_K!, c.n_kv_heads, 1));
      data.set(`${p}self_attn.v_proj.bias`, b.b_V!);
    }
    data.set(`${p}self_attn.o_proj.weight`, b.W_O);
    data.set(`${p}post_attention_layernorm.weight`, gamma(b.ln2_w));
    data.set(`${p}mlp.gate_proj.weight`, b.W_gate);
    data.set(`${p}mlp.up_proj.weight`, b.W_in);
    data.set(`${p}mlp.down_proj.weight`, b.W_out);
  });
  data.set('model.norm.weight', gamma(w.ln_final_w));
  if (!c.tied_embeddings) data.set('lm_head.weight', w.W_U);
  const shapes = new Map(expectedTensors(c).map((e) => [e.name, e.shape]));
  return [...data].map(([name, d]) => ({ name, shape: shapes.get(name)!, data: d, dtype: st }));
}
