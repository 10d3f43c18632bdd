/**
 * An F32 GGUF of a loaded Llama model, so llama.cpp (node-llama-cpp) runs the very weights
 * the ONNX graph runs. Tensor names and metadata keys are llama.cpp's for the `llama`
 * architecture (gguf-py/gguf/constants.py: token_embd, blk.N.attn_q, …, output_norm;
 * llama.embedding_length, …). Two conversions, as convert_hf_to_gguf.py does them:
 * - q/k rows of a Hugging Face ('half' RoPE) model are permuted to GGUF's interleaved
 *   pairing (LlamaModel.permute; src/core/formats/rope-permute.ts);
 * - a tied model has no output.weight: llama.cpp then decodes with token_embd.
 * llama.cpp refuses a model without a vocabulary, and the random benchmark model has none,
 * so `syntheticSpmVocab` makes a SentencePiece-style (tokenizer.ggml.model = "llama") one:
 * <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then "▁w{i}" pieces. The benchmark
 * feeds token ids directly; the pieces only have to be valid and distinct.
 */
import type { LoadedModel } from '../core/model/weights.ts';
import { floatBlock } from '../core/model/quantized.ts';
import { type GgufTensorToWrite, type GgufWriteValue, writeGguf } from '../core/formats/gguf-writer.ts';
import { ropeRowsToInterleaved } from '../core/formats/rope-permute.ts';

export interface GgufVocab {
  tokens: string[];
  scores: Float32Array;
  /** llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte. */
  types: Int32Array;
}

export function syntheticSpmVocab(size: number): GgufVocab {
  if (!Number.isInteger(size) || size < 259) throw new Error(`a SentencePiece vocabulary with byte tokens needs ≥ 259 pieces, asked for ${size}`);
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  for (let i = 0; tokens.length < size; i++) {
    tokens.push(`▁w${i}`);
    types.push(1);
  }
  const scores = Float32Array.from(tokens, (_, i) => (i < 259 ? 0 : -(i - 259)));
  return { tokens, scores, types: Int32Array.from(types) };
}

/** GGUF bytes (all tensors F32) of `model`, with the given vocabulary (synthetic by default). */
export function modelToF32Gguf(model: LoadedModel, name: string, vocab: GgufVocab = syntheticSpmVocab(model.config.d_vocab)): Uint8Array {
  const c = model.config, w = model.weights;
  if (c.arch !== 'llama' || c.rope_scaling || c.attn_bias || c.act_fn !== 'silu' || c.embed_scale !== 1) {
    throw new Error('the benchmark GGUF writer handles plain Llama models only (no RoPE scaling, biases, GELU or embedding scale)');
  }
  if (vocab.tokens.length !== c.d_vocab) throw new Error(`vocabulary has ${vocab.tokens.length} pieces, the model ${c.d_vocab}`);
  const u32 = (value: number): GgufWriteValue => ({ type: 'u32', value });
  const metadata: [string, GgufWriteValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: name }],
    ['general.file_type', u32(0)], // LLAMA_FTYPE_ALL_F32
    ['llama.context_length', u32(c.n_ctx)],
    ['llama.embedding_length', u32(c.d_model)],
    ['llama.feed_forward_length', u32(c.d_mlp)],
    ['llama.block_count', u32(c.n_layers)],
    ['llama.attention.head_count', u32(c.n_heads)],
    ['llama.attention.head_count_kv', u32(c.n_kv_heads)],
    ['llama.attention.key_length', u32(c.d_head)],
    ['llama.attention.value_length', u32(c.d_head)],
    ['llama.rope.dimension_count', u32(c.d_head)],
    ['llama.rope.freq_base', { type: 'f32', value: c.rope_theta }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: c.norm_eps }],
    ['llama.vocab_size', u32(c.d_vocab)],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(c.bos_token_id)],
    ['tokenizer.ggml.eos_token_id', u32(c.eos_token_id)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
  ];
  const qk = (m: Float32Array, heads: number) => (c.rope_style === 'half' ? ropeRowsToInterleaved(m, heads, c.d_head, c.d_model) : m);
  const t = (tensorName: string, shape: number[], data: Float32Array): GgufTensorToWrite => ({ name: tensorName, shape, data, type: 'F32' });
  const tensors: GgufTensorToWrite[] = [t('token_embd.weight', [c.d_vocab, c.d_model], w.W_E), t('output_norm.weight', [c.d_model], w.ln_final_w)];
  if (!(c.tied_embeddings || w.W_U === w.W_E)) tensors.push(t('output.weight', [c.d_vocab, c.d_model], w.W_U));
  const q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  w.blocks.map(floatBlock).forEach((b, l) => {
    const p = `blk.${l}.`;
    tensors.push(
      t(`${p}attn_norm.weight`, [c.d_model], b.ln1_w),
      t(`${p}attn_q.weight`, [q, c.d_model], qk(b.W_Q, c.n_heads)),
      t(`${p}attn_k.weight`, [kv, c.d_model], qk(b.W_K, c.n_kv_heads)),
      t(`${p}attn_v.weight`, [kv, c.d_model], b.W_V),
      t(`${p}attn_output.weight`, [c.d_model, q], b.W_O),
      t(`${p}ffn_norm.weight`, [c.d_model], b.ln2_w),
      t(`${p}ffn_gate.weight`, [c.d_mlp, c.d_model], b.W_gate),
      t(`${p}ffn_up.weight`, [c.d_mlp, c.d_model], b.W_in),
      t(`${p}ffn_down.weight`, [c.d_model, c.d_mlp], b.W_out),
    );
  });
  return writeGguf(metadata, tensors);
}
