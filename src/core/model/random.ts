/**
 * Seeded random checkpoints for architectures whose real weights cannot be downloaded here
 * (Mistral, Llama, Gemma, Qwen2). Same seed, same weights, on every platform: the PRNG is
 * mulberry32 and normals come from Box–Muller in float64, rounded once to float32.
 */
import { LLAMA_DEFAULTS, type Architecture, type ModelConfig } from './config.ts';
import type { BlockWeights, LoadedModel } from './weights.ts';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Small configs with each architecture's distinguishing features and a 32000-token vocabulary (Mistral's tokenizer). */
export function tinyConfig(arch: Architecture, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base: ModelConfig = {
    arch,
    d_model: 64,
    d_mlp: 160,
    n_layers: 3,
    n_heads: 8,
    n_kv_heads: 2,
    d_head: 8,
    d_vocab: 32000,
    n_ctx: 256,
    norm_eps: 1e-5,
    rope_theta: 10000,
    rope_style: 'half',
    tied_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    ...LLAMA_DEFAULTS,
  };
  const perArch: Record<Architecture, Partial<ModelConfig>> = {
    llama: { rope_scaling: { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
    mistral: { sliding_window: 16, rope_theta: 1e6 },
    // Gemma: head_dim ≠ d_model / n_heads, GELU-tanh, tied, embeddings scaled by √d_model
    gemma: { n_heads: 4, n_kv_heads: 1, d_head: 24, act_fn: 'gelu_tanh', tied_embeddings: true, embed_scale: Math.fround(Math.sqrt(64)), norm_eps: 1e-6 },
    qwen2: { attn_bias: true, n_kv_heads: 4, rope_theta: 1e6, norm_eps: 1e-6 },
  };
  return { ...base, ...perArch[arch], ...overrides };
}

/** Weights ~ N(0, std²) per matrix (std = 1/√fan_in), norm scales near 1. */
export function randomModel(config: ModelConfig, seed: number): LoadedModel {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const mat = (rows: number, cols: number, std = 1 / Math.sqrt(cols)) => Float32Array.from({ length: rows * cols }, () => normal() * std);
  const scale = (n: number) => Float32Array.from({ length: n }, () => 1 + 0.1 * normal());
  const c = config, q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  const W_E = mat(c.d_vocab, c.d_model, 1);
  const blocks: BlockWeights[] = Array.from({ length: c.n_layers }, () => ({
    ln1_w: scale(c.d_model),
    W_Q: mat(q, c.d_model),
    W_K: mat(kv, c.d_model),
    W_V: mat(kv, c.d_model),
    W_O: mat(c.d_model, q),
    ...(c.attn_bias ? { b_Q: mat(1, q, 0.1), b_K: mat(1, kv, 0.1), b_V: mat(1, kv, 0.1) } : {}),
    ln2_w: scale(c.d_model),
    W_gate: mat(c.d_mlp, c.d_model),
    W_in: mat(c.d_mlp, c.d_model),
    W_out: mat(c.d_model, c.d_mlp),
  }));
  const ln_final_w = scale(c.d_model);
  const W_U = c.tied_embeddings ? W_E : mat(c.d_vocab, c.d_model);
  return { config, weights: { W_E, blocks, ln_final_w, W_U } };
}
