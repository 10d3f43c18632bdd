/**
 * The decode graph's grouped KL (decode-graph.ts: one [R, R] GEMM per group of states that
 * are each other's predecessors; lens-decoder.ts: grouping by connected components of
 * n ↔ pred(n), padding to equal groups, and back to the caller's order). Checked against a
 * float64 JS decode (independent: plain loops over the vocabulary) on uneven, out-of-order
 * predecessor chains, for each matrix kind, with states scaled so some tokens sit > 88 nats
 * below the top (where the softmax clamp acts). Tolerances: 1e-5 absolute on probabilities,
 * entropy and KL below 1 nat, relative above (float32 graph vs float64).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type DecoderName, groupByPredecessor, LensDecoder } from '../../src/core/analysis/lens-decoder.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };

describe('groupByPredecessor', () => {
  it('keeps connected states together, packs components largest first and maps predecessors within groups', () => {
    // components {0, 2, 4} (0 ← 2 ← 4), {3, 5} (pred of 3 is 5: batch order within a component), {1}:
    // groups of 3 slots; {1} fits beside {3, 5}
    const g = groupByPredecessor(6, Int32Array.from([0, 1, 0, 5, 2, 5]));
    expect([g.groups, g.size]).toEqual([2, 3]);
    expect([...g.slot]).toEqual([0, 2, 4, 3, 5, 1]);
    expect([...g.pred].map(Number)).toEqual([0, 0, 1, 1, 1, 2]);
  });
  it('pads a group that no component fills, the padding its own predecessor', () => {
    const g = groupByPredecessor(5, Int32Array.from([0, 0, 1, 3, 3]));
    expect([g.groups, g.size, [...g.slot], [...g.pred].map(Number)]).toEqual([2, 3, [0, 1, 2, 3, 4, -1], [0, 0, 1, 0, 0, 2]]);
  });
  it('without predecessors every state is its own group', () => {
    const g = groupByPredecessor(3);
    expect([g.groups, g.size, [...g.slot], [...g.pred].map(Number)]).toEqual([3, 1, [0, 1, 2], [0, 0, 0]]);
  });
  it('refuses a predecessor outside the batch', () => {
    expect(() => groupByPredecessor(2, Int32Array.from([0, 2]))).toThrow(/pred\[1\] must be the index of a state in the batch \(0\.\.1\), got 2/);
  });
});

/** Deterministic pseudo-random numbers in [−1, 1) (a 32-bit LCG). */
function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
}

describe('grouped decode vs float64', () => {
  const d = 6, V = 300, n = 7, k = 3;
  const r = rand(11);
  const W_in = Float32Array.from({ length: V * d }, r), W_out = Float32Array.from({ length: V * d }, r);
  // Rows 0 and 4 scaled ×60: logits spread over > 88 nats, so the clamp is exercised.
  const states = Float32Array.from({ length: n * d }, (_, i) => r() * ([0, 4].includes(Math.floor(i / d)) ? 60 : 2));
  const pred = Int32Array.from([0, 0, 1, 3, 3, 6, 4]); // groups {0,1,2}, {3,4,6,5}: uneven, 5 → 6 points forward
  const alpha = Float32Array.from([0, 0.2, 0.4, 0.5, 0.7, 0.9, 1]);

  const logp64 = (i: number, W: Float32Array) => {
    const l = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += states[i * d + j] * W[v * d + j];
      return s;
    });
    const m = Math.max(...l);
    const lse = m + Math.log(l.reduce((z, x) => z + Math.exp(x - m), 0));
    return l.map((x) => x - lse);
  };
  const expected = (decoder: DecoderName, i: number): number[] => {
    const a = logp64(i, W_in), b = logp64(i, W_out);
    if (decoder === 'output') return b;
    if (decoder === 'maxprob') return Math.max(...a) > Math.max(...b) ? a : b;
    // linear: logits (1 − α)·l_in + α·l_out, renormalised (the shift of each cancels)
    const mix = a.map((x, v) => (1 - alpha[i]) * x + alpha[i] * b[v]);
    const m = Math.max(...mix);
    const lse = m + Math.log(mix.reduce((z, x) => z + Math.exp(x - m), 0));
    return mix.map((x) => x - lse);
  };

  for (const decoder of ['output', 'linear', 'maxprob'] as const) {
    it(`${decoder}: top-k, entropy and KL to uneven, reordered predecessors`, async () => {
      const dec = new LensDecoder(backend, { d_model: d, d_vocab: V, W_in, W_out, gamma: new Float32Array(d).fill(1), eps: 1e-6 }, decoder, 'none', k);
      try {
        const res = await dec.decode({ states, applyNorm: new Uint8Array(n), alpha, pred });
        const lps = Array.from({ length: n }, (_, i) => expected(decoder, i));
        expect(Math.max(...lps[0]) - Math.min(...lps[0])).toBeGreaterThan(88);
        for (let i = 0; i < n; i++) {
          const lp = lps[i], q = lps[pred[i]];
          const order = lp.map((_, v) => v).sort((x, y) => lp[y] - lp[x]);
          expect(Array.from(res.topIds.subarray(i * k, (i + 1) * k), Number), `state ${i}`).toEqual(order.slice(0, k));
          res.topP.subarray(i * k, (i + 1) * k).forEach((p, j) => expect(Math.abs(p - Math.exp(lp[order[j]]))).toBeLessThan(1e-5));
          const H = -lp.reduce((s, x) => s + Math.exp(x) * x, 0);
          const KL = lp.reduce((s, x, v) => s + Math.exp(x) * (x - q[v]), 0);
          expect(Math.abs(res.entropy[i] - H), `entropy ${i}`).toBeLessThan(1e-5);
          expect(Math.abs(res.kl[i] - KL) / Math.max(1, KL), `KL ${i}`).toBeLessThan(1e-5);
          if (pred[i] === i) expect(res.kl[i]).toBe(0);
        }
      } finally {
        await dec.release();
      }
    });
  }
});
