/**
 * Memory estimates, before anything is loaded. Lenspress holds weights as float32 in
 * JavaScript and hands them to ONNX Runtime as initializers, which copies them once more
 * into the session; activations are dominated by attention scores [n_heads, pos, pos] and
 * the logits [pos, d_vocab]; captured hooks are copied out to JavaScript.
 * Q8_0/Q4_0 checkpoints (config.source_dtype) keep their seven projections quantised: 34 / 18
 * bytes per 32 values in JavaScript (the GGUF blocks), 36 / 20 in the session (MatMulNBits'
 * codes plus a float32 scale per block); embeddings, unembedding and norms stay float32.
 */
import { type ModelConfig, parameterCount } from './config.ts';
import { hookShape } from './hooks.ts';

export interface MemoryEstimate {
  parameters: number;
  /** float32 weights held in JavaScript. */
  weightsBytes: number;
  /** The session's own copy of the initializers (ONNX Runtime keeps one). */
  sessionBytes: number;
  /** Peak working activations of one forward pass over `tokens` positions. */
  activationBytes: number;
  /** Hooks copied out to JavaScript. */
  hookBytes: number;
  totalBytes: number;
}

export function estimateMemory(c: ModelConfig, tokens: number, hooks: readonly string[] = ['logits']): MemoryEstimate {
  const parameters = parameterCount(c);
  const q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  const projections = c.n_layers * (2 * q * c.d_model + 2 * kv * c.d_model + 3 * c.d_mlp * c.d_model);
  const blocks = c.source_dtype === 'q8_0' || c.source_dtype === 'q4_0' ? projections / 32 : 0;
  const [jsBlock, sessionBlock] = c.source_dtype === 'q8_0' ? [34, 36] : [18, 20];
  const weightsBytes = (parameters - 32 * blocks) * 4 + blocks * jsBlock;
  // The unembedding is stored transposed in the graph: a tied model carries it twice there.
  const sessionBytes = (parameters - 32 * blocks) * 4 + blocks * sessionBlock + (c.tied_embeddings ? c.d_vocab * c.d_model * 4 : 0);
  const perLayer = tokens * (4 * c.d_model + 2 * c.d_mlp + (c.n_heads + 2 * c.n_kv_heads) * c.d_head) + 2 * c.n_heads * tokens * tokens;
  const activationBytes = 4 * (perLayer + tokens * c.d_vocab);
  const hookBytes = 4 * hooks.reduce((s, h) => s + hookShape(c, h, tokens).reduce((a, b) => a * b, 1), 0);
  return { parameters, weightsBytes, sessionBytes, activationBytes, hookBytes, totalBytes: weightsBytes + sessionBytes + activationBytes + hookBytes };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
