/** Generation with the key/value cache: greedy golden ids, sampling, per-step hooks. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generate, mergeSteps } from '../../src/core/engine/generate.ts';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { Sampler } from '../../src/core/engine/sampling.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { GOLDEN, maxAbsDiff, readStories } from '../helpers/stories.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };
const stories = new HookedModel(parseLlama2cCheckpoint(readStories('stories260K.bin')), backend);

describe('generation with the KV cache', () => {
  it('greedy from BOS gives the golden 24 ids', async () => {
    const g = await generate(stories, [1], { maxNewTokens: 24 });
    expect(g.ids).toEqual(GOLDEN.greedyFromBos);
    expect(g.stopReason).toBe('max-new-tokens');
    expect(g.steps.length).toBe(25);
  });

  it('per-step hooks, merged, equal one full pass over the generated sequence (1e-4)', async () => {
    for (const model of [stories, new HookedModel(randomModel(tinyConfig('mistral'), 3), backend)]) {
      const names = allHookNames(model.config);
      const prompt = [1, 5, 9, 33, 71];
      const g = await generate(model, prompt, { maxNewTokens: 20, hooks: names, stopIds: [] });
      const merged = mergeSteps(model, g.steps);
      const full = await model.run([...prompt, ...g.ids], names);
      for (const n of names) {
        expect(merged.get(n)!.dims, n).toEqual(full.get(n)!.dims);
        expect(maxAbsDiff(merged.get(n)!.data, full.get(n)!.data), n).toBeLessThan(1e-4);
      }
    }
  });

  it('honours stop tokens and the Stop callback', async () => {
    const first = (await generate(stories, [1], { maxNewTokens: 3 })).ids;
    const g = await generate(stories, [1], { maxNewTokens: 24, stopIds: [first[1]] });
    expect(g.ids).toEqual(first.slice(0, 2));
    expect(g.stopReason).toBe('stop-token');
    let n = 0;
    const s = await generate(stories, [1], { maxNewTokens: 24, onToken: () => ++n < 4 });
    expect(s.ids.length).toBe(4);
    expect(s.stopReason).toBe('stopped');
  });

  it('sampling is reproducible for a seed and varies across seeds', async () => {
    const opts = (seed: number) => ({ maxNewTokens: 30, sampling: { temperature: 1, topK: 40, topP: 0.95, seed } });
    const a = await generate(stories, [1], opts(7));
    const b = await generate(stories, [1], opts(7));
    const c = await generate(stories, [1], opts(8));
    expect(a.ids).toEqual(b.ids);
    expect(a.ids).not.toEqual(c.ids);
  });
});

describe('sampler', () => {
  const logits = [2, 1, 0, -1, 3];
  it('temperature 0 is argmax', () => expect(new Sampler({ temperature: 0, topK: 0, topP: 1, seed: 1 }).next(logits)).toBe(4));
  it('top-k 1 is argmax at any temperature', () => expect(new Sampler({ temperature: 5, topK: 1, topP: 1, seed: 1 }).next(logits)).toBe(4));
  it('top-p keeps the smallest set reaching p', () => {
    // softmax([3,2,1,0,-1]) = .636, .234, .086, .032, .012: p = 0.8 keeps {4, 0}
    const s = new Sampler({ temperature: 1, topK: 0, topP: 0.8, seed: 3 });
    const seen = new Set(Array.from({ length: 400 }, () => s.next(logits)));
    expect([...seen].sort()).toEqual([0, 4]);
  });
  it('frequencies follow the softmax (2000 draws, within 0.04)', () => {
    const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed: 11 });
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 2000; i++) counts[s.next(logits)]++;
    const z = logits.reduce((a, l) => a + Math.exp(l), 0);
    logits.forEach((l, i) => expect(Math.abs(counts[i] / 2000 - Math.exp(l) / z)).toBeLessThan(0.04));
  });
  it('rejects bad options', () => {
    expect(() => new Sampler({ temperature: -1, topK: 0, topP: 1, seed: 0 })).toThrow(/temperature/);
    expect(() => new Sampler({ temperature: 1, topK: 0, topP: 0, seed: 0 })).toThrow(/top-p/);
  });
});
