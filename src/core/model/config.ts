/**
 * The blueprint of a decoder-only transformer of the Llama family (llama2.c's `Config`,
 * Hugging Face's `config.json`). Dimension names follow TransformerLens.
 */
export interface ModelConfig {
  /** Architecture family; later issues add mistral, gemma, qwen2. */
  arch: 'llama';
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
}

/** Number of parameters, counting a tied unembedding once. */
export function parameterCount(c: ModelConfig): number {
  const attn = c.d_model * c.d_head * (2 * c.n_heads + 2 * c.n_kv_heads);
  const mlp = 3 * c.d_model * c.d_mlp;
  const norms = 2 * c.d_model;
  const embed = c.d_vocab * c.d_model * (c.tied_embeddings ? 1 : 2);
  return embed + c.n_layers * (attn + mlp + norms) + c.d_model;
}
