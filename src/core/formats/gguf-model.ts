/**
 * GGUF metadata and tensor names (llama.cpp: gguf-py/gguf/constants.py, src/llama-model.cpp)
 * ⇄ LoadedModel, for general.architecture llama (also Mistral, which llama.cpp converts as
 * llama), gemma and qwen2.
 *
 * - Metadata: {arch}.embedding_length, block_count, feed_forward_length,
 *   attention.head_count, attention.head_count_kv, attention.key_length (head size),
 *   attention.layer_norm_rms_epsilon, rope.freq_base, rope.dimension_count,
 *   rope.scaling.type/factor (linear), context_length, attention.sliding_window when present
 *   (llama.cpp's converter does not write it for Mistral, whose GGUFs then run with full
 *   attention, as in llama.cpp); vocabulary size from tokenizer.ggml.tokens.
 * - Tensors: token_embd, blk.{l}.attn_q/k/v/output (+ attn_q/k/v.bias), ffn_gate/up/down,
 *   attn_norm, ffn_norm, output_norm, output (absent ⇒ tied).
 * - RoPE: for llama, convert_hf_to_gguf permutes Hugging Face q/k rows back to Meta's
 *   adjacent pairs (LLAMA_ROPE_TYPE_NORM) ⇒ rope_style 'interleaved'. gemma and qwen2 are not
 *   permuted (LLAMA_ROPE_TYPE_NEOX) ⇒ 'half'.
 * - gemma: the converter stores norm weights as 1 + γ, and llama.cpp scales embeddings by
 *   sqrtf(n_embd) in float32; GELU-tanh; always tied.
 * llama3 RoPE scaling is stored by llama.cpp as a `rope_freqs` tensor of per-frequency
 * factors, which ModelConfig cannot express: refused.
 */
import { LenspressError } from '../errors.ts';
import { LLAMA_DEFAULTS, type ModelConfig } from '../model/config.ts';
import type { BlockWeights, LoadedModel } from '../model/weights.ts';
import type { ProjectionBytes } from '../model/memory.ts';
import { BLOCK_BYTES, BLOCK_VALUES, floatBlock, type Matrix, QK, SESSION_BYTES_PER_32 } from '../model/quantized.ts';
import { type GgufFile, type GgufHeader, type GgufTensorInfo, ggufArray, ggufNumber, ggufString, keptQuantType, readGgufQuantized, readGgufTensor } from './gguf.ts';
import type { GgufTensorToWrite, GgufTensorType, GgufWriteValue } from './gguf-writer.ts';
import { ropeRowsToInterleaved } from './rope-permute.ts';

export const GGUF_ARCHITECTURES = ['llama', 'gemma', 'qwen2'] as const;
type GgufArch = (typeof GGUF_ARCHITECTURES)[number];

const SOURCE_DTYPE: Record<string, ModelConfig['source_dtype']> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', Q8_0: 'q8_0', Q4_0: 'q4_0', Q4_K: 'q4_k' };

export interface GgufToModelOptions {
  /**
   * Keep Q8_0/Q4_0/Q4_K projection matrices quantised (views into the file; the ONNX graph
   * runs them as MatMulNBits, Q4_K plus a per-block offset). Q6_K — in Q4_K_M files about
   * half the layers' attn_v and ffn_down — is dequantised to float32 all the same:
   * MatMulNBits takes 2, 4 or 8 bits, not 6. So a model can mix per-tensor types; count its
   * memory from the weights (estimateMemory's `weights`). Default true; false dequantises
   * everything to float32.
   */
  quantized?: boolean;
}

export function ggufToModel(file: GgufFile, opts: GgufToModelOptions = {}): LoadedModel {
  const config = ggufConfig(file);
  const fail = (code: string, msg: string): never => {
    throw new LenspressError(code, `${file.fileName}: ${msg}`);
  };
  const { n_heads, n_kv_heads, d_head, d_model, d_vocab, n_layers } = config;
  const q = n_heads * d_head, kv = n_kv_heads * d_head, d = d_model, f = config.d_mlp;
  const read = (name: string, shape: number[], why: string): Float32Array => {
    const t = tensorInfo(file, name);
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      fail('shape-mismatch', `tensor ${name} has shape [${t.shape.join(', ')}] (ne [${t.ne.join(', ')}]), but the metadata implies [${shape.join(', ')}] (${why})`);
    }
    return readGgufTensor(file, name);
  };
  const keepQuantized = opts.quantized ?? true;
  /** A projection [out, in]: its blocks when quantised (and kept so), else float32. */
  const proj = (name: string, shape: number[], why: string): Matrix => {
    tensorInfo(file, name); // a missing tensor is reported as read() reports it
    const qm = keepQuantized ? readGgufQuantized(file, name) : null;
    if (qm && qm.rows === shape[0] && qm.cols === shape[1]) return qm;
    return read(name, shape, why);
  };
  const qWhy = `head_count ${n_heads} × head size ${d_head}, embedding_length ${d}`;
  const kvWhy = `head_count_kv ${n_kv_heads} × head size ${d_head}, embedding_length ${d}`;
  const W_E = read('token_embd.weight', [d_vocab, d], `vocabulary ${d_vocab}, embedding_length ${d}`);
  const blocks: BlockWeights[] = Array.from({ length: n_layers }, (_, l) => {
    const p = `blk.${l}.`;
    return {
      ln1_w: read(`${p}attn_norm.weight`, [d], `embedding_length ${d}`),
      W_Q: proj(`${p}attn_q.weight`, [q, d], qWhy),
      W_K: proj(`${p}attn_k.weight`, [kv, d], kvWhy),
      W_V: proj(`${p}attn_v.weight`, [kv, d], kvWhy),
      W_O: proj(`${p}attn_output.weight`, [d, q], `embedding_length ${d}, ${qWhy}`),
      ...(config.attn_bias ? { b_Q: read(`${p}attn_q.bias`, [q], qWhy), b_K: read(`${p}attn_k.bias`, [kv], kvWhy), b_V: read(`${p}attn_v.bias`, [kv], kvWhy) } : {}),
      ln2_w: read(`${p}ffn_norm.weight`, [d], `embedding_length ${d}`),
      W_gate: proj(`${p}ffn_gate.weight`, [f, d], `feed_forward_length ${f}`),
      W_in: proj(`${p}ffn_up.weight`, [f, d], `feed_forward_length ${f}`),
      W_out: proj(`${p}ffn_down.weight`, [d, f], `feed_forward_length ${f}`),
    };
  });
  const ln_final_w = read('output_norm.weight', [d], `embedding_length ${d}`);
  const W_U = config.tied_embeddings ? W_E : read('output.weight', [d_vocab, d], `vocabulary ${d_vocab}, embedding_length ${d}`);
  return { config, weights: { W_E, blocks, ln_final_w, W_U } };
}

/** The model's shape from the header alone (metadata and tensor list): what the page's memory estimate needs before reading the weights. */
export function ggufConfig(file: GgufHeader): ModelConfig {
  const fn = file.fileName;
  const fail = (code: string, msg: string): never => {
    throw new LenspressError(code, `${fn}: ${msg}`);
  };
  const arch = ggufString(file, 'general.architecture');
  if (arch === undefined) fail('bad-header', 'metadata general.architecture is missing');
  if (!(GGUF_ARCHITECTURES as readonly string[]).includes(arch!)) fail('unsupported-architecture', `general.architecture ${arch} is not supported (supported: ${GGUF_ARCHITECTURES.join(', ')})`);
  const a = arch as GgufArch;
  const n = (key: string, fallback?: number) => ggufNumber(file, `${a}.${key}`, fallback);
  const posInt = (key: string, fallback?: number) => {
    const v = n(key, fallback);
    if (!Number.isSafeInteger(v) || v <= 0) fail('bad-header', `metadata ${a}.${key} = ${v}, expected a positive integer`);
    return v;
  };

  const d_model = posInt('embedding_length');
  const n_layers = posInt('block_count');
  const n_heads = posInt('attention.head_count');
  const n_kv_heads = posInt('attention.head_count_kv', n_heads);
  const d_head = posInt('attention.key_length', d_model / n_heads);
  if (posInt('attention.value_length', d_head) !== d_head) fail('unsupported-config', `${a}.attention.value_length differs from key_length: not supported`);
  if (posInt('rope.dimension_count', d_head) !== d_head) fail('unsupported-config', `${a}.rope.dimension_count ${n('rope.dimension_count')} ≠ head size ${d_head}: partial RoPE is not supported`);
  if (n_heads % n_kv_heads !== 0 || d_head % 2 !== 0) fail('bad-header', `head_count ${n_heads}, head_count_kv ${n_kv_heads}, head size ${d_head}: expected head_count divisible by head_count_kv and an even head size`);
  if (file.tensors.has('rope_freqs.weight')) fail('unsupported-config', 'tensor rope_freqs.weight (per-frequency RoPE factors, llama3 scaling) is not supported (supported: no scaling, linear)');
  const scalingType = ggufString(file, `${a}.rope.scaling.type`) ?? 'none';
  let rope_scaling: ModelConfig['rope_scaling'] = null;
  if (scalingType === 'linear') rope_scaling = { type: 'linear', factor: n('rope.scaling.factor') };
  else if (scalingType !== 'none') fail('unsupported-config', `${a}.rope.scaling.type ${scalingType} is not supported (supported: none, linear)`);

  const tokens = ggufArray(file, 'tokenizer.ggml.tokens');
  const embd = tensorInfo(file, 'token_embd.weight');
  const d_vocab = tokens?.length ?? posInt('vocab_size', embd.shape[0]);
  const sw = file.metadata.has(`${a}.attention.sliding_window`) ? posInt('attention.sliding_window') : null;

  const config: ModelConfig = {
    ...LLAMA_DEFAULTS,
    arch: a === 'llama' ? (sw !== null ? 'mistral' : 'llama') : a,
    d_model,
    d_mlp: posInt('feed_forward_length'),
    n_layers,
    n_heads,
    n_kv_heads,
    d_head,
    d_vocab,
    n_ctx: posInt('context_length'),
    norm_eps: n('attention.layer_norm_rms_epsilon'),
    rope_theta: n('rope.freq_base', 10000),
    rope_style: a === 'llama' ? 'interleaved' : 'half',
    tied_embeddings: !file.tensors.has('output.weight'),
    bos_token_id: ggufNumber(file, 'tokenizer.ggml.bos_token_id', a === 'gemma' ? 2 : 1),
    eos_token_id: ggufNumber(file, 'tokenizer.ggml.eos_token_id', a === 'gemma' ? 1 : 2),
    act_fn: a === 'gemma' ? 'gelu_tanh' : 'silu',
    embed_scale: a === 'gemma' ? Math.fround(Math.sqrt(d_model)) : 1,
    attn_bias: file.tensors.has('blk.0.attn_q.bias'),
    sliding_window: sw,
    rope_scaling,
    source_dtype: SOURCE_DTYPE[tensorInfo(file, 'blk.0.attn_q.weight').typeName] ?? 'float32',
  };
  return config;
}

const GGUF_PROJECTIONS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const;

/**
 * The projections as ggufToModel will hold them, from the header's tensor types: Q8_0, Q4_0
 * and Q4_K kept as their blocks, anything else (F16, Q6_K, …) widened to float32. So the
 * estimate of a Q4_K_M file counts its Q6_K tensors at 4 bytes a value, as they are held.
 */
export function ggufProjectionBytes(file: GgufHeader, c: ModelConfig): ProjectionBytes {
  let values = 0, js = 0, session = 0;
  for (let l = 0; l < c.n_layers; l++) {
    for (const p of GGUF_PROJECTIONS) {
      const t = tensorInfo(file, `blk.${l}.${p}.weight`);
      const n = t.shape.reduce((a, b) => a * b, 1), kept = keptQuantType(t);
      values += n;
      if (kept && t.shape[1] % BLOCK_VALUES[kept] === 0) {
        js += (n / BLOCK_VALUES[kept]) * BLOCK_BYTES[kept];
        session += (n / QK) * SESSION_BYTES_PER_32[kept];
      } else {
        js += 4 * n;
        session += 4 * n;
      }
    }
  }
  return { values, js, session };
}

function tensorInfo(file: GgufHeader, name: string): GgufTensorInfo {
  const t = file.tensors.get(name);
  if (!t) throw new LenspressError('missing-tensor', `${file.fileName}: tensor ${name} is missing (a ${String(file.metadata.get('general.architecture'))} model needs it)`);
  return t;
}

/** A SentencePiece-style vocabulary as GGUF stores it (tokenizer.ggml.model "llama"). */
export interface GgufVocab {
  tokens: readonly string[];
  scores: ArrayLike<number>;
  /** 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte. */
  types: ArrayLike<number>;
  bosId: number;
  eosId: number;
  unkId: number;
}

/**
 * Metadata and tensors llama.cpp's convert_hf_to_gguf would write for `model`: 2-D weights as
 * `type`, norms and biases F32. Mistral is written as llama plus attention.sliding_window.
 */
export function ggufFromModel({ config: c, weights: w }: LoadedModel, type: GgufTensorType, vocab?: GgufVocab, name = 'lenspress'): { metadata: [string, GgufWriteValue][]; tensors: GgufTensorToWrite[] } {
  const refuse = (what: string): never => {
    throw new LenspressError('unsupported-config', `cannot write ${c.arch} as GGUF: ${what}`);
  };
  const a: GgufArch = c.arch === 'mistral' ? 'llama' : c.arch;
  if (c.rope_scaling?.type === 'llama3') refuse('llama3 RoPE scaling (llama.cpp stores it as a rope_freqs tensor, which Lenspress does not read)');
  if (a === 'gemma' && (c.act_fn !== 'gelu_tanh' || !c.tied_embeddings || c.embed_scale !== Math.fround(Math.sqrt(c.d_model)))) refuse('gemma in llama.cpp is GELU-tanh, tied, with embeddings scaled by sqrtf(d_model)');
  if (a !== 'gemma' && (c.act_fn !== 'silu' || c.embed_scale !== 1)) refuse(`${a} in llama.cpp uses SiLU and unscaled embeddings`);
  if (a !== 'qwen2' && c.attn_bias) refuse('q/k/v biases (only qwen2 has them)');
  const u32 = (value: number): GgufWriteValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufWriteValue => ({ type: 'f32', value });
  const metadata: [string, GgufWriteValue][] = [
    ['general.architecture', { type: 'string', value: a }],
    ['general.name', { type: 'string', value: name }],
    [`${a}.context_length`, u32(c.n_ctx)],
    [`${a}.embedding_length`, u32(c.d_model)],
    [`${a}.block_count`, u32(c.n_layers)],
    [`${a}.feed_forward_length`, u32(c.d_mlp)],
    [`${a}.attention.head_count`, u32(c.n_heads)],
    [`${a}.attention.head_count_kv`, u32(c.n_kv_heads)],
    [`${a}.attention.key_length`, u32(c.d_head)],
    [`${a}.attention.value_length`, u32(c.d_head)],
    [`${a}.rope.dimension_count`, u32(c.d_head)],
    [`${a}.rope.freq_base`, f32(c.rope_theta)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(c.norm_eps)],
  ];
  if (c.rope_scaling?.type === 'linear') metadata.push([`${a}.rope.scaling.type`, { type: 'string', value: 'linear' }], [`${a}.rope.scaling.factor`, f32(c.rope_scaling.factor)]);
  if (c.sliding_window !== null) metadata.push([`${a}.attention.sliding_window`, u32(c.sliding_window)]);
  if (vocab) {
    if (vocab.tokens.length !== c.d_vocab) refuse(`the vocabulary has ${vocab.tokens.length} tokens, the model ${c.d_vocab}`);
    metadata.push(
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
      ['tokenizer.ggml.scores', { type: 'f32[]', value: vocab.scores }],
      ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
      ['tokenizer.ggml.bos_token_id', u32(vocab.bosId)],
      ['tokenizer.ggml.eos_token_id', u32(vocab.eosId)],
      ['tokenizer.ggml.unknown_token_id', u32(vocab.unkId)],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
      ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    );
  } else {
    metadata.push(['tokenizer.ggml.bos_token_id', u32(c.bos_token_id)], ['tokenizer.ggml.eos_token_id', u32(c.eos_token_id)]);
  }

  const tensors: GgufTensorToWrite[] = [];
  const mat = (nm: string, shape: number[], data: Float32Array) => tensors.push({ name: nm, shape, data, type });
  const vec = (nm: string, data: Float32Array) => tensors.push({ name: nm, shape: [data.length], data, type: 'F32' });
  // llama: HF 'half' rows → Meta's interleaved pairs, as convert_hf_to_gguf's LlamaModel.permute
  const rope = (m: Float32Array, heads: number, cols: number) => (a === 'llama' && c.rope_style === 'half' ? ropeRowsToInterleaved(m, heads, c.d_head, cols) : m);
  if (a !== 'llama' && c.rope_style !== 'half') refuse(`${a} in llama.cpp uses the 'half' RoPE pairing (NEOX); this model is interleaved`);
  const q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head, d = c.d_model;
  mat('token_embd.weight', [c.d_vocab, d], w.W_E);
  // quantised projections are dequantised and quantised again as `type` (Q8_0 → Q8_0 reproduces the blocks when each block's largest |q| is 127)
  w.blocks.map(floatBlock).forEach((b, l) => {
    const p = `blk.${l}.`;
    vec(`${p}attn_norm.weight`, b.ln1_w);
    mat(`${p}attn_q.weight`, [q, d], rope(b.W_Q, c.n_heads, d));
    mat(`${p}attn_k.weight`, [kv, d], rope(b.W_K, c.n_kv_heads, d));
    mat(`${p}attn_v.weight`, [kv, d], b.W_V);
    if (c.attn_bias) {
      vec(`${p}attn_q.bias`, b.b_Q!);
      vec(`${p}attn_k.bias`, b.b_K!);
      vec(`${p}attn_v.bias`, b.b_V!);
    }
    mat(`${p}attn_output.weight`, [d, q], b.W_O);
    vec(`${p}ffn_norm.weight`, b.ln2_w);
    mat(`${p}ffn_gate.weight`, [c.d_mlp, d], b.W_gate);
    mat(`${p}ffn_up.weight`, [c.d_mlp, d], b.W_in);
    mat(`${p}ffn_down.weight`, [d, c.d_mlp], b.W_out);
  });
  vec('output_norm.weight', w.ln_final_w);
  if (!c.tied_embeddings) mat('output.weight', [c.d_vocab, d], w.W_U);
  return { metadata, tensors };
}
