/**
 * Memory estimates, before anything runs. Lenspress holds weights as float32 in
 * JavaScript and hands them to ONNX Runtime as initializers, which copies them once more
 * into the session; activations are dominated by attention scores [n_heads, pos, pos] and
 * the logits [pos, d_vocab]; captured hooks are copied out to JavaScript.
 * Quantised projections (model/quantized.ts) count at their own size: 34 / 18 / 144 bytes per
 * 32 / 32 / 256 values for Q8_0 / Q4_0 / Q4_K in JavaScript (the GGUF blocks), 36 / 20 / 24
 * per 32 values in the session (MatMulNBits' codes, a float32 scale per block, and for Q4_K a
 * float32 block offset); embeddings, unembedding and norms stay float32.
 * Given the loaded `weights`, the projections are counted as they are held, tensor by tensor:
 * a Q4_K_M GGUF mixes Q4_K projections (kept quantised) with Q6_K ones (float32, as MatMulNBits
 * has no 6-bit form), which config.source_dtype cannot say. Without weights (the page's
 * estimate before a download) every projection counts as config.source_dtype, so a Q4_K_M
 * file's Q6_K tensors are undercounted there (4 bytes a value held vs 0.5625 counted).
 */
import { type ModelConfig, parameterCount } from './config.ts';
import { hookShape } from './hooks.ts';
import { type Matrix, matrixBytes, matrixSessionBytes, matrixSize, PROJECTIONS, type QuantType, SESSION_BYTES_PER_32 } from './quantized.ts';
import type { ModelWeights } from './weights.ts';

export interface MemoryEstimate {
  parameters: number;
  /** Weights held in JavaScript (float32, quantised projections at their block size). */
  weightsBytes: number;
  /** The session's own copy of the initializers (ONNX Runtime keeps one). */
  sessionBytes: number;
  /** Peak working activations of one forward pass over `tokens` positions. */
  activationBytes: number;
  /** Hooks copied out to JavaScript. */
  hookBytes: number;
  totalBytes: number;
}

/** JavaScript bytes per 32 values of a quantised projection (a Q4_K super-block: 144 per 256). */
const JS_BYTES_PER_32: Record<QuantType, number> = { q8_0: 34, q4_0: 18, q4_k: 18 };

/** The projections' values, and their bytes in JavaScript and in the session. */
export interface ProjectionBytes {
  values: number;
  js: number;
  session: number;
}

function projectionBytes(c: ModelConfig, held?: ModelWeights | ProjectionBytes): ProjectionBytes {
  if (held && !('blocks' in held)) return held;
  const weights = held;
  if (weights) {
    const all: Matrix[] = weights.blocks.flatMap((b) => PROJECTIONS.map((k) => b[k]));
    return all.reduce((s, m) => ({ values: s.values + matrixSize(m), js: s.js + matrixBytes(m), session: s.session + matrixSessionBytes(m) }), { values: 0, js: 0, session: 0 });
  }
  const q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  const values = c.n_layers * (2 * q * c.d_model + 2 * kv * c.d_model + 3 * c.d_mlp * c.d_model);
  const t = c.source_dtype;
  if (t !== 'q8_0' && t !== 'q4_0' && t !== 'q4_k') return { values, js: 4 * values, session: 4 * values };
  return { values, js: (values / 32) * JS_BYTES_PER_32[t], session: (values / 32) * SESSION_BYTES_PER_32[t] };
}

/**
 * `held`: the loaded model, or the projections as a file's header lists them (a GGUF's
 * tensor types: formats/gguf-model.ts ggufProjectionBytes), to count each projection as it is
 * held; without it, from the config alone (see the module header).
 */
export function estimateMemory(c: ModelConfig, tokens: number, hooks: readonly string[] = ['logits'], held?: ModelWeights | ProjectionBytes): MemoryEstimate {
  const parameters = parameterCount(c);
  const proj = projectionBytes(c, held);
  const rest = (parameters - proj.values) * 4; // embeddings, unembedding, norms, biases: float32
  const weightsBytes = rest + proj.js;
  // The unembedding is stored transposed in the graph: a tied model carries it twice there.
  const sessionBytes = rest + proj.session + (c.tied_embeddings ? c.d_vocab * c.d_model * 4 : 0);
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
