import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { computeLogitLens, lensHooks } from '../../src/core/analysis/logit-lens.ts';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import type { NormMode } from '../../src/core/onnx/decode-graph.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { readStories } from '../helpers/stories.ts';

const model = parseLlama2cCheckpoint(readStories('stories260K.bin'));
const hooked = new HookedModel(model, { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' });
const ids = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376];

/** The lens computed independently: reference states, then float64 softmax in JS. */
function jsLens(norm: NormMode, k: number) {
  const { d_model: d, d_vocab: V, norm_eps } = model.config;
  const ref = referenceForward(model.config, model.weights, ids);
  const rows = lensHooks(model.config.n_layers).map((h) => ref.hooks.get(h)!);
  return rows.map((states, r) =>
    ids.map((_, t) => {
      const x = Array.from(states.subarray(t * d, (t + 1) * d));
      let v = x;
      if (norm !== 'none' && r < rows.length - 1) {
        const rms = Math.sqrt(x.reduce((s, a) => s + a * a, 0) / d + norm_eps);
        v = x.map((a, i) => (a / rms) * (norm === 'model' ? model.weights.ln_final_w[i] : 1));
      }
      const logits = Array.from({ length: V }, (_, j) => v.reduce((s, a, i) => s + a * model.weights.W_U[j * d + i], 0));
      const max = Math.max(...logits);
      const z = logits.reduce((s, l) => s + Math.exp(l - max), 0);
      const p = logits.map((l) => Math.exp(l - max) / z);
      const entropy = -p.reduce((s, q) => s + (q > 0 ? q * Math.log(q) : 0), 0);
      const order = p.map((q, j) => [q, j] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
      return { ids: order.map((o) => o[1]), probs: order.map((o) => o[0]), entropy };
    }),
  );
}

describe('logit lens (decode graph) vs an independent JS computation', () => {
  for (const norm of ['none', 'norm', 'model'] as const) {
    it(`norm=${norm}: same top-1 everywhere, probabilities and entropy within 1e-4`, async () => {
      const grid = await computeLogitLens(hooked, ids, (id) => `t${id}`, { norm, k: 5 });
      const expected = jsLens(norm, 5);
      expect(grid.cells.length).toBe(model.config.n_layers + 2);
      expect(grid.rowLabels[0]).toBe('embed');
      expect(grid.rowLabels.at(-1)).toBe('final norm');
      grid.cells.forEach((row, r) =>
        row.forEach((cell, t) => {
          const e = expected[r][t];
          expect(cell.ids[0], `row ${r} pos ${t}`).toBe(e.ids[0]);
          cell.probs.forEach((p, i) => expect(Math.abs(p - e.probs[i])).toBeLessThan(1e-4));
          expect(Math.abs(cell.entropy - e.entropy)).toBeLessThan(1e-4);
        }),
      );
    });
  }

  it('row L+1 equals the model logits (final norm applied once, not twice)', async () => {
    const grid = await computeLogitLens(hooked, ids, String, { norm: 'model', k: 1 });
    const logits = (await hooked.run(ids, ['logits'])).get('logits')!.data;
    const V = model.config.d_vocab;
    grid.cells.at(-1)!.forEach((cell, t) => {
      const row = logits.subarray(t * V, (t + 1) * V);
      let best = 0;
      for (let j = 1; j < V; j++) if (row[j] > row[best]) best = j;
      expect(cell.ids[0]).toBe(best);
    });
  });

  it('records every piece it shows', async () => {
    const grid = await computeLogitLens(hooked, ids, (id) => `t${id}`, { norm: 'model', k: 3 });
    for (const row of grid.cells) for (const c of row) for (const id of c.ids) expect(grid.pieces[id]).toBe(`t${id}`);
    for (const id of ids) expect(grid.pieces[id]).toBe(`t${id}`);
  });
});
