/**
 * HookedModel keeps at most `maxSessions` sessions (each holds a copy of the weights; a large
 * model gets 1 by default): a run with new hooks releases idle sessions first, a session is
 * never released while a run uses it, and results do not depend on the budget (exact equality:
 * the same graph on the same runtime).
 */
import { describe, expect, it } from 'vitest';
import modelsJson from '../../src/site/models.json';
import { parsePickerModels, pickerConfig } from '../../src/site/model-list.ts';
import { defaultMaxSessions, HookedModel, LARGE_SESSION_BYTES } from '../../src/core/engine/hooked-model.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { nodeBackend } from '../../src/node/open-model.ts';

const model = randomModel(tinyConfig('mistral', { n_layers: 2 }), 21);
const ids = [1, 415, 2936, 9060, 285];
const A = ['logits'], B = ['blocks.1.hook_resid_post'], C = ['blocks.0.attn.hook_pattern', 'logits'];

describe('session budget', () => {
  it('small models keep every session; models past LARGE_SESSION_BYTES (TinyLlama, Mistral 7B Q4_0) keep one', () => {
    expect(new HookedModel(model, nodeBackend()).maxSessions).toBe(Infinity);
    expect(defaultMaxSessions(model.config)).toBe(Infinity);
    const list = parsePickerModels(modelsJson).models;
    const byName = (n: string) => defaultMaxSessions(pickerConfig(list.find((m) => m.name.startsWith(n))!));
    expect([byName('SmolLM2'), byName('TinyLlama'), byName('Mistral')]).toEqual([Infinity, 1, 1]);
    expect(estimateMemory(pickerConfig(list.find((m) => m.name.startsWith('Mistral'))!), 1, []).sessionBytes).toBeGreaterThan(LARGE_SESSION_BYTES);
  });

  it('with maxSessions 1: new hooks release the idle session; concurrent runs keep theirs; results equal an unlimited model\'s', async () => {
    const unlimited = new HookedModel(model, nodeBackend());
    const one = new HookedModel(model, nodeBackend(), {}, { maxSessions: 1 });
    const same = async (hooks: string[], got: Map<string, { data: Float32Array }>) => {
      const want = await unlimited.run(ids, hooks);
      for (const h of hooks) expect(Array.from(got.get(h)!.data), h).toEqual(Array.from(want.get(h)!.data));
    };
    await same(A, await one.run(ids, A));
    expect(one.sessionCount).toBe(1);
    await same(B, await one.run(ids, B));
    expect(one.sessionCount).toBe(1);
    // Two runs at once with different hooks: neither session is released under the other.
    const [a, c] = await Promise.all([one.run(ids, A), one.run(ids, C)]);
    await same(A, a);
    await same(C, c);
    expect(one.sessionCount).toBeLessThanOrEqual(2);
    await same(B, await one.run(ids, B));
    expect(one.sessionCount).toBe(1);
    // Generation steps (the key/value-cache graph) share the budget.
    const step = await one.step(ids, null, ['logits']);
    expect(step.cache.length).toBe(ids.length);
    expect(one.sessionCount).toBe(1);
    await one.release();
    await unlimited.release();
    expect(one.sessionCount).toBe(0);
  });
});
