/**
 * The reference forward pass: plain TypeScript loops, llama2.c style, read top to bottom.
 * It is the test oracle for the ONNX graph, so it shares no code with it beyond the config.
 * Slow (O(T·params) scalar JS) and meant for tiny models and tests only.
 */
import type { ModelConfig } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { blockHook } from '../model/hooks.ts';

export interface ReferenceResult {
  /** [pos, d_vocab] */
  logits: Float32Array;
  /** Every hook, keyed by its TransformerLens name, shapes as in `hookShape`. */
  hooks: Map<string, Float32Array>;
}

/** y[o] = Σ_i W[o, i] x[i], with W row-major [out, in] (the Linear layout). */
function matvec(out: Float32Array, W: Float32Array, x: Float32Array, nOut: number, nIn: number): void {
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    const row = o * nIn;
    for (let i = 0; i < nIn; i++) s += W[row + i] * x[i];
    out[o] = s;
  }
}

function rmsnorm(out: Float32Array, x: Float32Array, gamma: Float32Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = gamma[i] * (x[i] * inv);
}

/** Rotates pairs of one head's vector in place, as `rope_style` says (see ModelConfig). */
function rope(v: Float32Array, offset: number, dHead: number, pos: number, c: ModelConfig): void {
  const half = dHead / 2;
  for (let i = 0; i < half; i++) {
    // Angles in float32, as llama2.c and the ONNX graph compute them.
    const freq = Math.fround(1 / Math.pow(c.rope_theta, (2 * i) / dHead));
    const angle = Math.fround(pos * freq);
    const cos = Math.cos(angle), sin = Math.sin(angle);
    const [a, b] = c.rope_style === 'interleaved' ? [offset + 2 * i, offset + 2 * i + 1] : [offset + i, offset + i + half];
    const x0 = v[a], x1 = v[b];
    v[a] = x0 * cos - x1 * sin;
    v[b] = x0 * sin + x1 * cos;
  }
}

export function referenceForward(c: ModelConfig, w: ModelWeights, ids: readonly number[]): ReferenceResult {
  const T = ids.length, d = c.d_model, dh = c.d_head, H = c.n_heads, Hkv = c.n_kv_heads;
  const qDim = H * dh, kvDim = Hkv * dh, groupSize = H / Hkv;
  const hooks = new Map<string, Float32Array>();
  const rows = (n: number) => Array.from({ length: T }, () => new Float32Array(n));
  const stack = (vs: Float32Array[]) => {
    const out = new Float32Array(vs.length * vs[0].length);
    vs.forEach((v, i) => out.set(v, i * v.length));
    return out;
  };

  // Token embedding: x^(0)[t] = W_E[id_t]
  let x = ids.map((id) => w.W_E.slice(id * d, (id + 1) * d)); // [pos][d_model]
  hooks.set('hook_embed', stack(x));

  for (let l = 0; l < c.n_layers; l++) {
    const b = w.blocks[l];
    hooks.set(blockHook(l, 'hook_resid_pre'), stack(x));

    // Attention: norm → q, k, v → RoPE on q and k
    const q = rows(qDim), k = rows(kvDim), v = rows(kvDim), xn = new Float32Array(d);
    for (let t = 0; t < T; t++) {
      rmsnorm(xn, x[t], b.ln1_w, c.norm_eps);
      matvec(q[t], b.W_Q, xn, qDim, d);
      matvec(k[t], b.W_K, xn, kvDim, d);
      matvec(v[t], b.W_V, xn, kvDim, d);
      for (let h = 0; h < H; h++) rope(q[t], h * dh, dh, t, c);
      for (let h = 0; h < Hkv; h++) rope(k[t], h * dh, dh, t, c);
    }

    // Causal softmax attention; query head h reads key/value head floor(h / groupSize).
    const pattern = new Float32Array(H * T * T); // [n_heads, pos, pos]
    const z = rows(qDim); // [pos][n_heads*d_head]
    const scale = 1 / Math.sqrt(dh);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / groupSize);
      for (let t = 0; t < T; t++) {
        const scores = new Float64Array(t + 1);
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let i = 0; i < dh; i++) dot += q[t][h * dh + i] * k[s][kvh * dh + i];
          scores[s] = dot * scale;
          max = Math.max(max, scores[s]);
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += (scores[s] = Math.exp(scores[s] - max));
        for (let s = 0; s <= t; s++) {
          const p = scores[s] / sum;
          pattern[(h * T + t) * T + s] = p;
          for (let i = 0; i < dh; i++) z[t][h * dh + i] += p * v[s][kvh * dh + i];
        }
      }
    }
    hooks.set(blockHook(l, 'attn.hook_pattern'), pattern);

    // Output projection W_O and the first residual add
    const attnOut = rows(d);
    for (let t = 0; t < T; t++) matvec(attnOut[t], b.W_O, z[t], d, qDim);
    const mid = x.map((xt, t) => xt.map((val, i) => val + attnOut[t][i]));
    hooks.set(blockHook(l, 'hook_attn_out'), stack(attnOut));
    hooks.set(blockHook(l, 'hook_resid_mid'), stack(mid));

    // SwiGLU MLP: W_out (silu(W_gate n) ⊙ W_in n), then the second residual add
    const mlpOut = rows(d), gate = new Float32Array(c.d_mlp), up = new Float32Array(c.d_mlp);
    for (let t = 0; t < T; t++) {
      rmsnorm(xn, mid[t], b.ln2_w, c.norm_eps);
      matvec(gate, b.W_gate, xn, c.d_mlp, d);
      matvec(up, b.W_in, xn, c.d_mlp, d);
      for (let i = 0; i < c.d_mlp; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
      matvec(mlpOut[t], b.W_out, gate, d, c.d_mlp);
    }
    x = mid.map((mt, t) => mt.map((val, i) => val + mlpOut[t][i]));
    hooks.set(blockHook(l, 'hook_mlp_out'), stack(mlpOut));
    hooks.set(blockHook(l, 'hook_resid_post'), stack(x));
  }

  // Final norm and unembedding
  const normed = rows(d), logits = rows(c.d_vocab);
  for (let t = 0; t < T; t++) {
    rmsnorm(normed[t], x[t], w.ln_final_w, c.norm_eps);
    matvec(logits[t], w.W_U, normed[t], c.d_vocab, d);
  }
  hooks.set('ln_final.hook_normalized', stack(normed));
  const flatLogits = stack(logits);
  hooks.set('logits', flatLogits);
  return { logits: flatLogits, hooks };
}
