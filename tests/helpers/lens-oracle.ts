/**
 * An independent float64 logit lens for tests (methods.md §1–2): states straight from the
 * reference forward pass's hooks, normalisation, both decoder matrices, softmax, entropy,
 * KL and iterative subtraction in plain JavaScript loops. It shares no code with
 * src/core/analysis or the decode graph; only the hook names and the weights are common.
 */
import type { DecoderName } from '../../src/core/analysis/lens-decoder.ts';
import type { LensState } from '../../src/core/analysis/lens-states.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import type { NormMode } from '../../src/core/onnx/decode-graph.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';

export interface OracleCell {
  ids: number[];
  probs: number[];
  entropy: number;
  kl: number | null;
  winner?: 'in' | 'out';
}

export interface OracleOptions {
  state: LensState;
  decoder: DecoderName;
  norm: NormMode;
  k: number;
}

const f64 = (a: Float32Array, from: number, d: number) => Float64Array.from(a.subarray(from, from + d));

export function normalise(x: Float64Array, norm: NormMode, gamma: Float32Array, eps: number): Float64Array {
  if (norm === 'none') return x;
  const rms = Math.sqrt(x.reduce((s, a) => s + a * a, 0) / x.length + eps);
  return x.map((a, i) => (a / rms) * (norm === 'model' ? gamma[i] : 1));
}

export function logitsOf(v: Float64Array, W: Float32Array, V: number): Float64Array {
  const d = v.length, out = new Float64Array(V);
  for (let j = 0; j < V; j++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += v[i] * W[j * d + i];
    out[j] = s;
  }
  return out;
}

export function logSoftmax(l: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of l) max = Math.max(max, v);
  let z = 0;
  for (const v of l) z += Math.exp(v - max);
  const lz = max + Math.log(z);
  return l.map((v) => v - lz);
}

/** First index of the maximum (ONNX TopK keeps the lower index on ties). */
export function argmax(a: Float64Array): number {
  let best = 0;
  for (let j = 1; j < a.length; j++) if (a[j] > a[best]) best = j;
  return best;
}

/** Indices of the k largest values, largest first, the lower index first on ties (by selection, O(V·k)). */
export function topK(a: Float64Array, k: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < a.length; j++) {
    if (out.length === k && a[j] <= a[out[k - 1]]) continue;
    let i = Math.min(out.length, k - 1);
    while (i > 0 && a[j] > a[out[i - 1]]) i--;
    out.splice(i, 0, j);
    if (out.length > k) out.pop();
  }
  return out;
}

/** Rows 0..L+1 (block) or 1..L (the others), each a list of T float64 vectors. */
export function oracleStates(model: LoadedModel, hooks: Map<string, Float32Array>, T: number, state: LensState): { rows: number[]; vectors: Float64Array[][] } {
  const { n_layers: L, d_model: d } = model.config;
  const h = (name: string) => hooks.get(name)!;
  const at = (a: Float32Array) => Array.from({ length: T }, (_, t) => f64(a, t * d, d));
  const post = (l: number) => at(l === 0 ? h('hook_embed') : h(`blocks.${l - 1}.hook_resid_post`));
  const layers = Array.from({ length: L }, (_, i) => i + 1);
  switch (state) {
    case 'block':
      return { rows: [0, ...layers, L + 1], vectors: [...[0, ...layers].map(post), at(h('ln_final.hook_normalized'))] };
    case 'intermediate':
      return { rows: layers, vectors: layers.map((l) => at(h(`blocks.${l - 1}.hook_resid_mid`))) };
    case 'attn':
      return { rows: layers, vectors: layers.map((l) => at(h(`blocks.${l - 1}.hook_attn_out`))) };
    case 'ffn':
      return { rows: layers, vectors: layers.map((l) => at(h(`blocks.${l - 1}.hook_mlp_out`))) };
    case 'diff':
      return { rows: layers, vectors: layers.map((l) => post(l).map((x, t) => x.map((v, i) => v - post(l - 1)[t][i]))) };
  }
}

/** A float64 lens over one prompt; the two logit vectors of each (state, norm, cell) are cached. */
export function makeOracle(model: LoadedModel, ids: readonly number[]) {
  const { config: c, weights: w } = model;
  const T = ids.length, L = c.n_layers, V = c.d_vocab;
  const ref = referenceForward(c, w, ids);
  const tied = w.W_E === w.W_U;
  const cache = new Map<string, { rows: number[]; lin: Float64Array[][]; lout: Float64Array[][] }>();

  function logits(state: LensState, norm: NormMode) {
    const key = `${state}:${norm}`;
    let e = cache.get(key);
    if (!e) {
      const { rows, vectors } = oracleStates(model, ref.hooks, T, state);
      const normed = vectors.map((row, i) => row.map((x) => (state === 'block' && rows[i] === L + 1 ? x : normalise(x, norm, w.ln_final_w, c.norm_eps))));
      const lout = normed.map((row) => row.map((v) => logitsOf(v, w.W_U, V)));
      const lin = tied ? lout : normed.map((row) => row.map((v) => logitsOf(v, w.W_E, V)));
      cache.set(key, (e = { rows, lin, lout }));
    }
    return e;
  }

  function lens(o: OracleOptions): { rows: number[]; cells: OracleCell[][] } {
    const { rows, lin, lout } = logits(o.state, o.norm);
    const logps = rows.map((r, i) =>
      lin[i].map((li, t) => {
        const lo = lout[i][t];
        const a = o.decoder === 'linear' ? r / (L + 1) : (r / (L + 1)) ** 2;
        switch (o.decoder) {
          case 'output':
            return { lp: logSoftmax(lo) };
          case 'input':
            return { lp: logSoftmax(li) };
          case 'linear':
          case 'quadratic':
            return { lp: logSoftmax(li.map((v, j) => (1 - a) * v + a * lo[j])) };
          case 'maxprob': {
            const pi = logSoftmax(li), po = logSoftmax(lo);
            return pi[argmax(pi)] > po[argmax(po)] ? { lp: pi, winner: 'in' as const } : { lp: po, winner: 'out' as const };
          }
        }
      }),
    );
    const cells = logps.map((row, i) =>
      row.map(({ lp, winner }, t): OracleCell => {
        const p = lp.map(Math.exp);
        const entropy = -p.reduce((s, q, j) => s + q * lp[j], 0);
        const prev = i > 0 ? logps[i - 1][t].lp : undefined;
        const kl = prev ? p.reduce((s, q, j) => s + q * (lp[j] - prev[j]), 0) : null;
        const top = topK(p, o.k);
        return { ids: top, probs: top.map((j) => p[j]), entropy, kl, ...(winner ? { winner } : {}) };
      }),
    );
    return { rows, cells };
  }

  /**
   * Iterative subtraction (methods.md §2) of every cell of a state, in float64: up to 5 steps of
   * id = argmax(N(e)·Wᵀ), record if new, e ← e − W[id]; stop at ‖e‖ ≤ 0.01 or, from step 2,
   * when ‖e‖ stops decreasing.
   */
  function iterative(o: OracleOptions) {
    const { rows, vectors } = oracleStates(model, ref.hooks, T, o.state);
    const d = c.d_model;
    const row = (W: Float32Array, id: number) => Float64Array.from(W.subarray(id * d, (id + 1) * d));
    return rows.map((r, i) =>
      vectors[i].map((x0) => {
        const applyNorm = !(o.state === 'block' && r === L + 1);
        const a = o.decoder === 'linear' ? r / (L + 1) : o.decoder === 'quadratic' ? (r / (L + 1)) ** 2 : o.decoder === 'input' ? 0 : 1;
        let e = x0;
        const ids: number[] = [], steps: number[] = [], norms: number[] = [];
        let stop = 'max-steps';
        for (let step = 1; step <= 5; step++) {
          const v = applyNorm ? normalise(e, o.norm, w.ln_final_w, c.norm_eps) : e;
          let id: number, sub: Float64Array;
          if (o.decoder === 'maxprob' && !tied) {
            const pi = logSoftmax(logitsOf(v, w.W_E, V)), po = logSoftmax(logitsOf(v, w.W_U, V));
            const ii = argmax(pi), io = argmax(po);
            [id, sub] = pi[ii] > po[io] ? [ii, row(w.W_E, ii)] : [io, row(w.W_U, io)];
          } else {
            const li = logitsOf(v, w.W_E, V), lo = tied ? li : logitsOf(v, w.W_U, V);
            id = argmax(li.map((q, j) => (1 - a) * q + a * lo[j]));
            const ri = row(w.W_E, id), ro = row(w.W_U, id);
            sub = ri.map((q, j) => (1 - a) * q + a * ro[j]);
          }
          steps.push(id);
          if (!ids.includes(id)) ids.push(id);
          e = e.map((q, j) => q - sub[j]);
          const n = Math.sqrt(e.reduce((s, q) => s + q * q, 0));
          const prev = norms.at(-1);
          norms.push(n);
          if (n <= 0.01) { stop = 'small'; break; }
          if (step >= 2 && n >= prev!) { stop = 'no-decrease'; break; }
        }
        return { ids, steps, norms, stop };
      }),
    );
  }

  return { ref, lens, iterative };
}

/**
 * The untied random Mistral-style checkpoint (seed 7) with W_U scaled by 8 to W_E's entry
 * scale (std 1): unscaled, W_E's larger entries make W_in win max-probability everywhere.
 */
export function balancedMistral(): LoadedModel {
  const m = randomModel(tinyConfig('mistral'), 7);
  return { config: m.config, weights: { ...m.weights, W_U: m.weights.W_U.map((v) => v * 8) } };
}
