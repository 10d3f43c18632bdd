/**
 * The blueprint of a decoder-only transformer of the Llama family (llama2.c's `Config`,
 * Hugging Face's `config.json`). Dimension names follow TransformerLens.
 */
export interface ModelConfig {
  /** Architecture family (Hugging Face: LlamaForCausalLM, MistralForCausalLM, GemmaForCausalLM, Qwen2ForCausalLM). */
  arch: Architecture;
  d_model: number;
  /** Width of the SwiGLU hidden layer. */
  d_mlp: number;
  n_layers: number;
  n_heads: number;
  /** Key/value heads (grouped-query attention when < n_heads). */
  n_kv_heads: number;
  d_head: number;
  d_vocab: number;
  /** Context length the model was trained with; longer prompts are refused. */
  n_ctx: number;
  norm_eps: number;
  rope_theta: number;
  /**
   * Which dimensions RoPE rotates together. `interleaved`: pairs (2i, 2i+1) as in Meta's
   * code, llama2.c and GGUF. `half`: (i, i + d_head/2) as Hugging Face's `rotate_half`.
   */
  rope_style: 'interleaved' | 'half';
  /** W_U is W_E (stories260K, Gemma). */
  tied_embeddings: boolean;
  bos_token_id: number;
  eos_token_id: number;
  /** MLP activation: SiLU (Llama, Mistral, Qwen2) or the tanh approximation of GELU (Gemma). */
  act_fn: 'silu' | 'gelu_tanh';
  /**
   * Multiplies the token embedding before block 0: 1, or √d_model rounded to the model's
   * dtype for Gemma (Hugging Face computes it as a tensor of the hidden states' dtype).
   */
  embed_scale: number;
  /** q/k/v projections carry biases (Qwen2). */
  attn_bias: boolean;
  /**
   * Mistral's sliding window W, or null. Query i sees key j iff i − W < j ≤ i: W keys
   * including itself — Hugging Face's `sliding_window_overlay` (kv_idx > q_idx − W).
   */
  sliding_window: number | null;
  /** RoPE frequency scaling from the config's `rope_scaling`, or null. */
  rope_scaling: RopeScaling | null;
  /**
   * The dtype the weights were stored in (blk.0.attn_q's for a GGUF; other tensors may differ,
   * e.g. Q6_K in a Q4_K_M file). Held as float32 here, except quantised projections (model/quantized.ts).
   */
  source_dtype: 'float32' | 'float16' | 'bfloat16' | 'q8_0' | 'q4_0' | 'q4_k';
}

export type Architecture = 'llama' | 'mistral' | 'gemma' | 'qwen2';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };

/** The defaults of a plain Llama config; format readers override what their files say. */
export const LLAMA_DEFAULTS = {
  act_fn: 'silu',
  embed_scale: 1,
  attn_bias: false,
  sliding_window: null,
  rope_scaling: null,
  source_dtype: 'float32',
} as const satisfies Partial<ModelConfig>;

/** Number of parameters, counting a tied unembedding once. */
export function parameterCount(c: ModelConfig): number {
  const attn = c.d_model * c.d_head * (2 * c.n_heads + 2 * c.n_kv_heads) + (c.attn_bias ? c.d_head * (c.n_heads + 2 * c.n_kv_heads) : 0);
  const mlp = 3 * c.d_model * c.d_mlp;
  const norms = 2 * c.d_model;
  const embed = c.d_vocab * c.d_model * (c.tied_embeddings ? 1 : 2);
  return embed + c.n_layers * (attn + mlp + norms) + c.d_model;
}
