/**
 * Iterative subtraction (methods.md §2) run in ONNX Runtime, one decode-graph step per
 * iteration: a hand-worked 4-token, d = 3 case that exercises each stopping rule, and the
 * whole grid against the float64 JS implementation in tests/helpers/lens-oracle.ts on
 * stories260K (tied) and an untied random checkpoint.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type DecodeBatch, LensDecoder } from '../../src/core/analysis/lens-decoder.ts';
import type { LensState } from '../../src/core/analysis/lens-states.ts';
import { computeLogitLens } from '../../src/core/analysis/logit-lens.ts';
import { iterativeStop, iterativeSubtraction } from '../../src/core/analysis/secondary.ts';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import type { NormMode } from '../../src/core/onnx/decode-graph.ts';
import { balancedMistral, makeOracle } from '../helpers/lens-oracle.ts';
import { readStories } from '../helpers/stories.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };

/**
 * The made-up vocabulary: w0 = (1,0,0), w1 = (0,1,0), w2 = (0,0,1), w3 = (0.6,0.8,0).
 * Hand-worked, norm none (argmax of e·wᵀ):
 *  A  e = (0.605, 0.8, 1): logits (0.605, 0.8, 1, 1.003) → 3; e = (0.005, 0, 1), ‖e‖ = 1.0000125;
 *     logits (0.005, 0, 1, 0.003) → 2; e = (0.005, 0, 0), ‖e‖ = 0.005 ≤ 0.01: stop "small".
 *  B  e = (0.1, 0, 0.02): → 0; e = (−0.9, 0, 0.02), ‖e‖ = 0.900222 (up from 0.102, but step 1 never
 *     stops on that); logits (−0.9, 0, 0.02, −0.54) → 2; e = (−0.9, 0, −0.98), ‖e‖ = 1.330564 ≥ 0.900222:
 *     stop "no-decrease" (the step's id is recorded first).
 *  C  e = (10, 0, 0.5): → 0 five times (repeats recorded once); ‖e‖ = √(x² + 0.25) for x = 9..5:
 *     stop "max-steps".
 *  D  e = (1, 0.9, 0.5): → 3; e = (0.4, 0.1, 0.5), ‖e‖ = 0.648074; → 2; e = (0.4, 0.1, −0.5): the same
 *     norm, which is not a decrease: stop "no-decrease".
 *  E  D with norm model, γ = (1, 1, 3): N(e) ∝ (1, 0.9, 1.5) → 2 (γ changes the argmax);
 *     e = (1, 0.9, −0.5), ‖e‖ = 1.435270; ∝ (1, 0.9, −1.5) → 3; e = (0.4, 0.1, −0.5), 0.648074;
 *     ∝ (0.4, 0.1, −1.5) → 0; e = (−0.6, 0.1, −0.5), 0.787401: stop "no-decrease".
 *  F  E's state marked already normalised (apply_norm = 0): decoded as D.
 */
const W = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6, 0.8, 0]);
const tiny = (gamma: number[]) => ({ d_model: 3, d_vocab: 4, W_in: W, W_out: W, gamma: Float32Array.from(gamma), eps: 1e-6 });
const batchOf = (states: number[][], applyNorm = states.map(() => 1)): DecodeBatch => ({
  states: Float32Array.from(states.flat()),
  applyNorm: Uint8Array.from(applyNorm),
  alpha: new Float32Array(states.length).fill(1),
});

describe('iterative subtraction: hand-worked 4-token vocabulary, d = 3', () => {
  it('each stopping rule, repeats recorded once, norms after every step', async () => {
    const dec = new LensDecoder(backend, tiny([1, 1, 1]), 'output', 'none', 2);
    const got = await iterativeSubtraction(dec, batchOf([[0.605, 0.8, 1], [0.1, 0, 0.02], [10, 0, 0.5], [1, 0.9, 0.5]]));
    const want = [
      { ids: [3, 2], steps: [3, 2], norms: [1.0000125, 0.005], stop: 'small' },
      { ids: [0, 2], steps: [0, 2], norms: [0.9002222, 1.3305638], stop: 'no-decrease' },
      { ids: [0], steps: [0, 0, 0, 0, 0], norms: [9, 8, 7, 6, 5].map((x) => Math.hypot(x, 0.5)), stop: 'max-steps' },
      { ids: [3, 2], steps: [3, 2], norms: [0.6480741, 0.6480741], stop: 'no-decrease' },
    ];
    got.forEach((g, i) => {
      expect({ ids: g.ids, steps: g.steps, stop: g.stop }, `case ${'ABCD'[i]}`).toEqual({ ids: want[i].ids, steps: want[i].steps, stop: want[i].stop });
      g.norms.forEach((n, j) => expect(Math.abs(n - want[i].norms[j])).toBeLessThan(1e-6));
      expect(g.winners).toBeUndefined();
    });
  });

  it('norm model: γ changes the argmax; a state marked normalised is decoded raw', async () => {
    const dec = new LensDecoder(backend, tiny([1, 1, 3]), 'output', 'model', 1);
    const [e, f] = await iterativeSubtraction(dec, batchOf([[1, 0.9, 0.5], [1, 0.9, 0.5]], [1, 0]));
    expect([e.ids, e.steps, e.stop]).toEqual([[2, 3, 0], [2, 3, 0], 'no-decrease']);
    e.norms.forEach((n, j) => expect(Math.abs(n - [1.4352700, 0.6480741, 0.7874008][j])).toBeLessThan(1e-6));
    expect([f.ids, f.stop]).toEqual([[3, 2], 'no-decrease']);
  });

  it('the stopping rule itself', () => {
    expect(iterativeStop(1, 0.01, undefined)).toBe('small');
    expect(iterativeStop(1, 5, undefined)).toBeUndefined();
    expect(iterativeStop(2, 5, 4)).toBe('no-decrease');
    expect(iterativeStop(2, 4, 4)).toBe('no-decrease');
    expect(iterativeStop(2, 3.9, 4)).toBeUndefined();
    expect(iterativeStop(5, 3.9, 4)).toBe('max-steps');
  });
});

const stories = parseLlama2cCheckpoint(readStories('stories260K.bin'));
const CASES: { name: string; model: LoadedModel; ids: number[]; runs: { state: LensState; decoder: 'output' | 'linear' | 'maxprob'; norm: NormMode; allStops?: boolean }[] }[] = [
  {
    name: 'stories260K',
    model: stories,
    ids: [1, 403, 407, 261, 378, 432, 383, 286, 261, 376],
    runs: [
      { state: 'block', decoder: 'output', norm: 'none', allStops: true }, // the embedding row stops 'small' (e − W[id] = 0)
      { state: 'block', decoder: 'output', norm: 'model' },
      { state: 'diff', decoder: 'output', norm: 'norm' },
      { state: 'attn', decoder: 'output', norm: 'model' },
    ],
  },
  {
    name: 'untied random Mistral (W_U at W_E scale)',
    model: balancedMistral(),
    ids: [1, 415, 2936, 9060, 285, 1014],
    runs: [
      { state: 'block', decoder: 'linear', norm: 'model' },
      { state: 'ffn', decoder: 'maxprob', norm: 'none' },
    ],
  },
];

for (const { name, model, ids, runs } of CASES) {
  describe(`iterative subtraction on ${name} vs float64 JS`, () => {
    const hooked = new HookedModel(model, backend);
    const oracle = makeOracle(model, ids);
    for (const run of runs) {
      it(`${run.state} / ${run.decoder} / norm ${run.norm}: same ids, steps and stops; norms within 1e-4 relative`, async () => {
        const { allStops, ...opts } = run;
        const grid = await computeLogitLens(hooked, ids, String, { ...opts, k: 3, secondary: 'iterative' });
        const want = oracle.iterative({ ...opts, k: 3 });
        const stops = new Set<string>();
        grid.cells.forEach((row, i) =>
          row.forEach((cell, t) => {
            const s = cell.secondary!, w = want[i][t];
            expect({ ids: s.ids, steps: s.steps, stop: s.stop }, `row ${grid.rows[i]} pos ${t}`).toEqual({ ids: w.ids, steps: w.steps, stop: w.stop });
            s.norms.forEach((n, j) => expect(Math.abs(n - w.norms[j]) / Math.max(1, w.norms[j])).toBeLessThan(1e-4));
            expect(s.ids[0]).toBe(cell.ids[0]); // step 1 is the primary decoding
            if (run.decoder === 'maxprob') expect(s.winners![0]).toBe(cell.winner);
            stops.add(s.stop);
          }),
        );
        if (allStops) expect([...stops].sort()).toEqual(['max-steps', 'no-decrease', 'small']);
      });
    }
  });
}
