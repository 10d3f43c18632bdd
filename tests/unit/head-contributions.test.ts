/**
 * Per-head contributions (src/core/analysis/head-contributions.ts): norms and cosines from a
 * hand-made per-head tensor; the in-graph reductions (attn.hook_result_norm/cos, float32)
 * against the same measures computed here in float64 from the full attn.hook_result, on
 * stories260K and a random Mistral-shaped checkpoint (1e-5); the correlation is taken over
 * exactly the (layer, head, chosen position) pairs; the tables are ranked.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { choosePositions, computeHeadContributions, headHooks, runHeadContributions } from '../../src/core/analysis/head-contributions.ts';
import { correlations } from '../../src/core/analysis/stats.ts';
import { HookedModel, type HookMap } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { readStories } from '../helpers/stories.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };

describe('head contributions: hand-made per-head outputs', () => {
  // 1 layer, 2 positions, 2 heads, d_model 2. Position 0: heads [3, 4] and [0, 0] → total [3, 4].
  // Position 1: heads [1, 0] and [0, 1] → total [1, 1]: norms 1, 1; cosines 1/√2, 1/√2.
  const full: HookMap = new Map([['blocks.0.attn.hook_result', { data: Float32Array.from([3, 4, 0, 0, 1, 0, 0, 1]), dims: [2, 2, 2] }]]);

  it('norms and cosines from attn.hook_result', () => {
    const c = computeHeadContributions(full, { n_layers: 1, n_heads: 2 });
    expect(c.source).toBe('full');
    expect(c.norm).toEqual([[[5, 0], [1, 1]]]);
    expect(c.cosine[0][0]).toEqual([1, 0]); // a zero head has cosine 0, as the graph's +1e-12 gives
    for (const v of c.cosine[0][1]) expect(v).toBeCloseTo(Math.SQRT1_2, 15);
    expect(c.top.byNorm.map((r) => [r.layer, r.head, r.norm])).toEqual([[0, 0, 3], [0, 1, 0.5]]);
  });

  it('the reduced hooks are read as given, and a disagreement with the full tensor is refused', () => {
    const reduced: HookMap = new Map([
      ['blocks.0.attn.hook_result_norm', { data: Float32Array.from([5, 0, 1, 1]), dims: [2, 2] }],
      ['blocks.0.attn.hook_result_cos', { data: Float32Array.from([1, 0, Math.SQRT1_2, Math.SQRT1_2]), dims: [2, 2] }],
    ]);
    const c = computeHeadContributions(reduced, { n_layers: 1, n_heads: 2 });
    expect(c.source).toBe('reduced');
    expect(c.norm).toEqual([[[5, 0], [1, 1]]]);
    const both = new Map([...reduced, ...full]);
    expect(computeHeadContributions(both, { n_layers: 1, n_heads: 2 }).agreement!.maxNormDiff).toBe(0);
    both.set('blocks.0.attn.hook_result_norm', { data: Float32Array.from([5, 0, 1, 2]), dims: [2, 2] });
    expect(() => computeHeadContributions(both, { n_layers: 1, n_heads: 2 })).toThrow(/disagree with attn.hook_result: norm by 1,/);
  });

  it('position choices', () => {
    expect(choosePositions('all', 4)).toEqual([0, 1, 2, 3]);
    expect(choosePositions({ first: 2 }, 4)).toEqual([0, 1]);
    expect(choosePositions({ last: 3 }, 4)).toEqual([1, 2, 3]);
    expect(choosePositions({ list: [3, 1, 3] }, 4)).toEqual([1, 3]);
    expect(() => choosePositions({ first: 5 }, 4)).toThrow(/first N must be a whole number from 1 to the prompt's 4 tokens, got 5/);
    expect(() => choosePositions({ list: [4] }, 4)).toThrow(/within 0\.\.3/);
  });
});

const CASES: { name: string; model: LoadedModel; ids: number[] }[] = [
  { name: 'stories260K', model: parseLlama2cCheckpoint(readStories('stories260K.bin')), ids: [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315] },
  { name: 'random Mistral', model: randomModel(tinyConfig('mistral'), 5), ids: Array.from({ length: 24 }, (_, i) => (i * 7919 + 1) % 32000) },
];

for (const { name, model, ids } of CASES) {
  describe(`head contributions on ${name}`, () => {
    it('in-graph norm/cos equal the float64 measures from attn.hook_result (1e-5)', async () => {
      const hooked = new HookedModel(model, backend);
      const hooks = await hooked.run(ids, [...headHooks(model.config), ...headHooks(model.config, 'full')]);
      const both = computeHeadContributions(hooks, model.config);
      expect(both.agreement!.maxNormDiff).toBeLessThan(1e-5);
      expect(both.agreement!.maxCosineDiff).toBeLessThan(1e-5);
      const full = computeHeadContributions(new Map([...hooks].filter(([k]) => k.endsWith('hook_result'))), model.config);
      expect(full.source).toBe('full');
      expect(Math.abs(full.correlation.spearman.statistic - both.correlation.spearman.statistic)).toBeLessThan(1e-3);
      await hooked.release();
    });

    it('the correlation is over every (layer, head, position) of the last N positions; tables ranked', async () => {
      const hooked = new HookedModel(model, backend);
      const N = 5, T = ids.length, L = model.config.n_layers, H = model.config.n_heads;
      const c = await runHeadContributions(hooked, ids, { positions: { last: N }, topK: 4 });
      expect(c.chosen).toEqual([T - 5, T - 4, T - 3, T - 2, T - 1]);
      const x: number[] = [], y: number[] = [];
      for (let l = 0; l < L; l++)
        for (let h = 0; h < H; h++)
          for (let t = T - N; t < T; t++) {
            x.push(c.norm[l][t][h]);
            y.push(c.cosine[l][t][h]);
          }
      expect(c.correlation).toEqual(correlations(x, y));
      expect(c.correlation.pearson.n).toBe(L * H * N);
      expect(c.correlation.kendall.method).toBe('asymptotic');
      expect(c.top.byNorm.length).toBe(4);
      for (let i = 1; i < 4; i++) expect(c.top.byNorm[i - 1].norm).toBeGreaterThanOrEqual(c.top.byNorm[i].norm);
      for (let i = 1; i < 4; i++) expect(c.top.byCosine[i - 1].cosine).toBeGreaterThanOrEqual(c.top.byCosine[i].cosine);
      // the best head by mean norm over the chosen positions, found directly
      let best = -1;
      for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) best = Math.max(best, [...Array(N).keys()].reduce((s, i) => s + c.norm[l][T - N + i][h], 0) / N);
      expect(c.top.byNorm[0].norm).toBeCloseTo(best, 12);
      await hooked.release();
    });
  });
}
