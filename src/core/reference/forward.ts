/**
 * The reference forward pass: plain TypeScript loops, llama2.c style, read top to bottom.
 * It is the test oracle for the ONNX graph, so it shares no code with it beyond the config,
 * the RoPE frequencies and the intervention tensors (which it applies in its own loops).
 * Slow (scalar JS) and meant for tiny models and tests only.
 */
import type { ModelConfig } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { floatBlock } from '../model/quantized.ts';
import { blockHook, type BlockHook } from '../model/hooks.ts';
import { headKeep, type Intervention, type InterventionSite, siteTensors } from '../model/interventions.ts';
import { ropeInvFreq } from '../model/rope.ts';
import { geluTanh, matvec, rmsnorm, silu } from './ops.ts';

export interface ReferenceResult {
  /** [pos, d_vocab] */
  logits: Float32Array;
  /** Every hook, keyed by its TransformerLens name, shapes as in `hookShape`. */
  hooks: Map<string, Float32Array>;
}

type Rows = Float32Array[]; // [pos][width]

/** Rotates one head's vector in place (rope_style says which dimensions pair up). */
function rope(v: Float32Array, offset: number, pos: number, invFreq: Float64Array, c: ModelConfig): void {
  const half = c.d_head / 2;
  for (let i = 0; i < half; i++) {
    // float32 angles, as llama2.c and Hugging Face compute them
    const angle = Math.fround(pos * Math.fround(invFreq[i]));
    const cos = Math.cos(angle), sin = Math.sin(angle);
    const [a, b] = c.rope_style === 'interleaved' ? [offset + 2 * i, offset + 2 * i + 1] : [offset + i, offset + i + half];
    const x0 = v[a], x1 = v[b];
    v[a] = x0 * cos - x1 * sin;
    v[b] = x0 * sin + x1 * cos;
  }
}

export function referenceForward(c: ModelConfig, w: ModelWeights, ids: readonly number[], interventions: readonly Intervention[] = []): ReferenceResult {
  const T = ids.length, d = c.d_model, dh = c.d_head, H = c.n_heads, Hkv = c.n_kv_heads;
  const qDim = H * dh, kvDim = Hkv * dh, groupSize = H / Hkv;
  const invFreq = ropeInvFreq(c);
  const hooks = new Map<string, Float32Array>();
  const rows = (n: number): Rows => Array.from({ length: T }, () => new Float32Array(n));
  const stack = (vs: Rows) => {
    const out = new Float32Array(vs.length * vs[0].length);
    vs.forEach((v, i) => out.set(v, i * v.length));
    return out;
  };
  /** h' = keep ⊙ h + delta at one (layer, site), then record the hook. */
  const site = (l: number, s: InterventionSite, h: Rows, hook: BlockHook): Rows => {
    const { keep, delta } = siteTensors(c, T, interventions, l, s);
    const out = h.map((ht, t) => ht.map((v, i) => keep[t] * v + delta[t * d + i]));
    hooks.set(blockHook(l, hook), stack(out));
    return out;
  };

  // Token embedding, scaled (Gemma: √d_model in the model's dtype)
  let x: Rows = ids.map((id) => w.W_E.slice(id * d, (id + 1) * d).map((v) => v * c.embed_scale));
  hooks.set('hook_embed', stack(x));

  for (let l = 0; l < c.n_layers; l++) {
    const b = floatBlock(w.blocks[l]); // quantised projections: dequantised per call (the oracle favours clarity)
    x = site(l, 'resid_pre', x, 'hook_resid_pre');

    // Attention: norm → q, k, v (+ biases) → RoPE on q and k
    const q = rows(qDim), k = rows(kvDim), v = rows(kvDim), xn = new Float32Array(d);
    for (let t = 0; t < T; t++) {
      rmsnorm(xn, x[t], b.ln1_w, c.norm_eps);
      matvec(q[t], b.W_Q, xn, qDim, d, b.b_Q);
      matvec(k[t], b.W_K, xn, kvDim, d, b.b_K);
      matvec(v[t], b.W_V, xn, kvDim, d, b.b_V);
    }
    hooks.set(blockHook(l, 'attn.hook_q'), stack(q));
    hooks.set(blockHook(l, 'attn.hook_k'), stack(k));
    hooks.set(blockHook(l, 'attn.hook_v'), stack(v));
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) rope(q[t], h * dh, t, invFreq, c);
      for (let h = 0; h < Hkv; h++) rope(k[t], h * dh, t, invFreq, c);
    }

    // Causal softmax attention (within the sliding window, if any);
    // query head h reads key/value head floor(h / groupSize).
    const pattern = new Float32Array(H * T * T); // [n_heads, pos, pos]
    const z = rows(qDim); // [pos][n_heads*d_head]
    const scale = 1 / Math.sqrt(dh);
    const keepHead = headKeep(c, T, interventions, l);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / groupSize);
      for (let t = 0; t < T; t++) {
        const first = c.sliding_window ? Math.max(0, t - c.sliding_window + 1) : 0;
        const scores = new Float64Array(T);
        let max = -Infinity;
        for (let s = first; s <= t; s++) {
          let dot = 0;
          for (let i = 0; i < dh; i++) dot += q[t][h * dh + i] * k[s][kvh * dh + i];
          scores[s] = dot * scale;
          max = Math.max(max, scores[s]);
        }
        let sum = 0;
        for (let s = first; s <= t; s++) sum += scores[s] = Math.exp(scores[s] - max);
        for (let s = first; s <= t; s++) {
          const p = scores[s] / sum;
          pattern[(h * T + t) * T + s] = p;
          for (let i = 0; i < dh; i++) z[t][h * dh + i] += p * v[s][kvh * dh + i];
        }
        for (let i = 0; i < dh; i++) z[t][h * dh + i] *= keepHead[h * T + t];
      }
    }
    hooks.set(blockHook(l, 'attn.hook_pattern'), pattern);
    hooks.set(blockHook(l, 'attn.hook_z'), stack(z));

    // Per-head outputs through each head's slice of W_O; their sum is the attention output.
    const result = new Float32Array(T * H * d); // [pos, n_heads, d_model]
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let o = 0; o < d; o++) {
          let s = 0;
          for (let i = 0; i < dh; i++) s += b.W_O[o * qDim + h * dh + i] * z[t][h * dh + i];
          result[(t * H + h) * d + o] = s;
        }
    hooks.set(blockHook(l, 'attn.hook_result'), result);
    let attnOut = rows(d);
    for (let t = 0; t < T; t++) matvec(attnOut[t], b.W_O, z[t], d, qDim);

    // Per-head norms and cosines to the (pre-intervention) attention output
    const norms = new Float32Array(T * H), cosines = new Float32Array(T * H);
    for (let t = 0; t < T; t++) {
      const total = attnOut[t];
      let totalNorm = 0;
      for (let o = 0; o < d; o++) totalNorm += total[o] * total[o];
      totalNorm = Math.sqrt(totalNorm);
      for (let h = 0; h < H; h++) {
        const r = result.subarray((t * H + h) * d, (t * H + h + 1) * d);
        let dot = 0, nn = 0;
        for (let o = 0; o < d; o++) {
          dot += r[o] * total[o];
          nn += r[o] * r[o];
        }
        norms[t * H + h] = Math.sqrt(nn);
        cosines[t * H + h] = dot / (Math.sqrt(nn) * totalNorm + 1e-12);
      }
    }
    hooks.set(blockHook(l, 'attn.hook_result_norm'), norms);
    hooks.set(blockHook(l, 'attn.hook_result_cos'), cosines);

    attnOut = site(l, 'attn_out', attnOut, 'hook_attn_out');
    const mid = site(l, 'resid_mid', x.map((xt, t) => xt.map((val, i) => val + attnOut[t][i])), 'hook_resid_mid');

    // Gated MLP: W_out (act(W_gate n) ⊙ W_in n)
    let mlpOut = rows(d);
    const gate = new Float32Array(c.d_mlp), up = new Float32Array(c.d_mlp);
    const act = c.act_fn === 'silu' ? silu : geluTanh;
    for (let t = 0; t < T; t++) {
      rmsnorm(xn, mid[t], b.ln2_w, c.norm_eps);
      matvec(gate, b.W_gate, xn, c.d_mlp, d);
      matvec(up, b.W_in, xn, c.d_mlp, d);
      for (let i = 0; i < c.d_mlp; i++) gate[i] = act(gate[i]) * up[i];
      matvec(mlpOut[t], b.W_out, gate, d, c.d_mlp);
    }
    mlpOut = site(l, 'mlp_out', mlpOut, 'hook_mlp_out');
    x = site(l, 'resid_post', mid.map((mt, t) => mt.map((val, i) => val + mlpOut[t][i])), 'hook_resid_post');
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
