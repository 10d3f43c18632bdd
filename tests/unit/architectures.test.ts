/** Every architecture's ONNX graph against the reference forward pass, on seeded random weights. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import type { Architecture } from '../../src/core/model/config.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { maxAbsDiff } from '../helpers/stories.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };
const ids = Array.from({ length: 40 }, (_, i) => (i * 7919 + 1) % 32000); // 40 > Mistral's tiny window of 16

describe.each(['llama', 'mistral', 'gemma', 'qwen2'] as Architecture[])('%s', (arch) => {
  const model = randomModel(tinyConfig(arch), 1234);
  const hooked = new HookedModel(model, backend);

  it('every hook matches the reference within 1e-4 (float32)', async () => {
    const ref = referenceForward(model.config, model.weights, ids);
    const names = allHookNames(model.config);
    const out = await hooked.run(ids, names);
    for (const name of names) expect(maxAbsDiff(out.get(name)!.data, ref.hooks.get(name)!), name).toBeLessThan(1e-4);
  });
});

describe('architecture details', () => {
  it('mistral: past the sliding window, a query sees exactly the last W keys', async () => {
    const model = randomModel(tinyConfig('mistral'), 7);
    const W = model.config.sliding_window!;
    const p = (await new HookedModel(model, backend).run(ids, ['blocks.0.attn.hook_pattern'])).get('blocks.0.attn.hook_pattern')!.data;
    const T = ids.length;
    for (const t of [0, W - 1, W, T - 1])
      for (let s = 0; s < T; s++) {
        const v = p[t * T + s]; // head 0
        if (s > t || s <= t - W) expect(v, `q ${t} k ${s}`).toBe(0);
        else expect(v, `q ${t} k ${s}`).toBeGreaterThan(0);
      }
  });

  it('per-head results sum to the attention output', async () => {
    const model = randomModel(tinyConfig('qwen2'), 9);
    const out = await new HookedModel(model, backend).run(ids, ['blocks.1.attn.hook_result', 'blocks.1.hook_attn_out']);
    const r = out.get('blocks.1.attn.hook_result')!, a = out.get('blocks.1.hook_attn_out')!.data;
    const [T, H, d] = r.dims;
    const sum = new Float32Array(T * d);
    for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let i = 0; i < d; i++) sum[t * d + i] += r.data[(t * H + h) * d + i];
    expect(maxAbsDiff(sum, a)).toBeLessThan(1e-4);
  });
});
