/** Interventions as graph inputs: equal to the reference's, and visible only downstream. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import type { Intervention } from '../../src/core/model/interventions.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { maxAbsDiff } from '../helpers/stories.ts';

const model = randomModel(tinyConfig('mistral', { sliding_window: null }), 42);
const hooked = new HookedModel(model, { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' });
const ids = [1, 415, 2936, 9060, 285, 1142, 754, 28723, 661, 349];
const names = allHookNames(model.config);
const d = model.config.d_model;
const vec = Array.from({ length: d }, (_, i) => Math.sin(i));
const LAYER = 1, POS = 5;

/** Hook order index of a hook name (forward order), to tell upstream from downstream. */
const order = (name: string) => names.indexOf(name);
function positionSlice(name: string, data: Float32Array, t: number): Float32Array {
  const T = ids.length;
  if (name.endsWith('attn.hook_pattern')) {
    const H = data.length / (T * T);
    return Float32Array.from({ length: H * T }, (_, i) => data[(Math.floor(i / T) * T + t) * T + (i % T)]);
  }
  const per = data.length / T;
  return data.subarray(t * per, (t + 1) * per);
}

const cases: [string, Intervention[], string][] = [
  ['add a vector to resid_pre', [{ kind: 'add', layer: LAYER, position: POS, site: 'resid_pre', vector: vec }], `blocks.${LAYER}.hook_resid_pre`],
  ['replace resid_mid', [{ kind: 'replace', layer: LAYER, position: POS, site: 'resid_mid', vector: vec }], `blocks.${LAYER}.hook_resid_mid`],
  ['ablate the attention output', [{ kind: 'ablate', layer: LAYER, position: POS, site: 'attn_out' }], `blocks.${LAYER}.hook_attn_out`],
  ['ablate the MLP output', [{ kind: 'ablate', layer: LAYER, position: POS, site: 'mlp_out' }], `blocks.${LAYER}.hook_mlp_out`],
  ['replace resid_post', [{ kind: 'replace', layer: LAYER, position: POS, site: 'resid_post', vector: vec }], `blocks.${LAYER}.hook_resid_post`],
  ['ablate one head at one position', [{ kind: 'ablate_head', layer: LAYER, head: 3, position: POS }], `blocks.${LAYER}.attn.hook_z`],
];

describe('interventions', async () => {
  const clean = await hooked.run(ids, names);

  it.each(cases)('%s: equals the reference, within 1e-4', async (_what, ivs) => {
    const out = await hooked.run(ids, names, ivs);
    const ref = referenceForward(model.config, model.weights, ids, ivs);
    for (const n of names) expect(maxAbsDiff(out.get(n)!.data, ref.hooks.get(n)!), n).toBeLessThan(1e-4);
  });

  it.each(cases)('%s: only downstream changes', async (_what, ivs, firstChanged) => {
    const out = await hooked.run(ids, names, ivs);
    for (const n of names) {
      const a = out.get(n)!.data, b = clean.get(n)!.data;
      if (order(n) < order(firstChanged)) expect(maxAbsDiff(a, b), `${n} is upstream`).toBe(0);
      // Earlier positions never see a later position (causal attention).
      if (n !== 'logits') for (let t = 0; t < POS; t++) expect(maxAbsDiff(positionSlice(n, a, t), positionSlice(n, b, t)), `${n} at position ${t}`).toBe(0);
    }
    expect(maxAbsDiff(out.get(firstChanged)!.data, clean.get(firstChanged)!.data)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(out.get('logits')!.data, clean.get('logits')!.data)).toBeGreaterThan(1e-4);
  });

  it('an intervention slot with identity inputs changes nothing, bit for bit', async () => {
    const out = await hooked.run(ids, ['logits'], [{ kind: 'add', layer: 0, position: 0, site: 'resid_pre', vector: new Array(d).fill(0) }]);
    expect(maxAbsDiff(out.get('logits')!.data, clean.get('logits')!.data)).toBe(0);
  });

  it('rejects interventions outside the model', async () => {
    await expect(hooked.run(ids, ['logits'], [{ kind: 'ablate', layer: 9, position: 0, site: 'attn_out' }])).rejects.toThrow(/layer must be 0..2/);
    await expect(hooked.run(ids, ['logits'], [{ kind: 'add', layer: 0, position: 99, site: 'resid_pre', vector: vec }])).rejects.toThrow(/position must be 0..9/);
    await expect(hooked.run(ids, ['logits'], [{ kind: 'add', layer: 0, position: 0, site: 'resid_pre', vector: [1, 2] }])).rejects.toThrow(/expected d_model = 64/);
    await expect(hooked.run(ids, ['logits'], [{ kind: 'ablate_head', layer: 0, head: 8 }])).rejects.toThrow(/head must be 0..7/);
  });
});
