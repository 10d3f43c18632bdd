import type { ModelConfig } from './config.ts';
import type { Matrix } from './quantized.ts';

/**
 * Weights of one block, as row-major float32 matrices in the `Linear` layout [out, in]
 * (y = W x), which is how llama2.c, GGUF and safetensors store them. Names follow
 * TransformerLens (W_Q, W_K, W_V, W_O; mlp W_gate, W_in, W_out; ln1/ln2 scales).
 * The seven projections may stay block-quantised as a GGUF stored them (Q8_0, Q4_0; see
 * quantized.ts): the ONNX graph runs them as MatMulNBits; code that needs float32 calls
 * `asFloat32`.
 */
export interface BlockWeights {
  /** RMSNorm scales as multiplied: Gemma's stored γ becomes 1 + γ at load time. */
  ln1_w: Float32Array; // [d_model]
  W_Q: Matrix; // [n_heads*d_head, d_model]
  /** q/k/v biases, present when config.attn_bias (Qwen2). */
  b_Q?: Float32Array; // [n_heads*d_head]
  b_K?: Float32Array; // [n_kv_heads*d_head]
  b_V?: Float32Array; // [n_kv_heads*d_head]
  W_K: Matrix; // [n_kv_heads*d_head, d_model]
  W_V: Matrix; // [n_kv_heads*d_head, d_model]
  W_O: Matrix; // [d_model, n_heads*d_head]
  ln2_w: Float32Array; // [d_model]
  W_gate: Matrix; // [d_mlp, d_model]
  W_in: Matrix; // [d_mlp, d_model]  (the "up" projection)
  W_out: Matrix; // [d_model, d_mlp] (the "down" projection)
}

export interface ModelWeights {
  W_E: Float32Array; // [d_vocab, d_model]
  blocks: BlockWeights[];
  ln_final_w: Float32Array; // [d_model]
  /** [d_vocab, d_model]; the same array as W_E when embeddings are tied. */
  W_U: Float32Array;
}

export interface LoadedModel {
  config: ModelConfig;
  weights: ModelWeights;
}
