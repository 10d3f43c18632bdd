import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { generateGreedy } from '../../src/core/engine/generate.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { GOLDEN, maxAbsDiff, readStories } from '../helpers/stories.ts';

const model = parseLlama2cCheckpoint(readStories('stories260K.bin'));
const hooked = new HookedModel(model, { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' });
/** A fixed 64-token input covering many vocabulary rows (BOS first, as in real prompts). */
const ids64 = [1, ...Array.from({ length: 63 }, (_, i) => (i * 97 + 5) % 512)];

describe('stories260K golden values', () => {
  it('reference: logits at position 0 for [BOS] (tolerance 1e-4)', () => {
    const { logits } = referenceForward(model.config, model.weights, [1]);
    GOLDEN.logitsAtBos.forEach((v, i) => expect(Math.abs(logits[i] - v)).toBeLessThan(1e-4));
  });

  it('ONNX: logits at position 0 for [BOS] (tolerance 1e-4)', async () => {
    const logits = (await hooked.run([1], ['logits'])).get('logits')!.data;
    GOLDEN.logitsAtBos.forEach((v, i) => expect(Math.abs(logits[i] - v)).toBeLessThan(1e-4));
  });

  it('ONNX: the 24 greedy ids from BOS', async () => {
    expect(await generateGreedy(hooked, [1], { maxNewTokens: 24 })).toEqual(GOLDEN.greedyFromBos);
  });
});

describe('ONNX graph vs the reference forward pass', () => {
  const ref = referenceForward(model.config, model.weights, ids64);
  const names = allHookNames(model.config);

  it('exposes every hook with the reference shape and values within 1e-4 (64 tokens)', async () => {
    const out = await hooked.run(ids64, names);
    expect([...out.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      const diff = maxAbsDiff(out.get(name)!.data, ref.hooks.get(name)!);
      expect(diff, name).toBeLessThan(1e-4);
    }
  });

  it('returns only the hooks asked for', async () => {
    const out = await hooked.run(ids64, ['blocks.2.hook_mlp_out']);
    expect([...out.keys()]).toEqual(['blocks.2.hook_mlp_out']);
    expect(out.get('blocks.2.hook_mlp_out')!.dims).toEqual([64, 64]);
  });

  it('hook_embed and blocks.0.hook_resid_pre are the same tensor, both exposed', async () => {
    const out = await hooked.run(ids64, ['hook_embed', 'blocks.0.hook_resid_pre']);
    expect(maxAbsDiff(out.get('hook_embed')!.data, out.get('blocks.0.hook_resid_pre')!.data)).toBe(0);
  });

  it('attention patterns are causal and rows sum to 1', async () => {
    const p = (await hooked.run(ids64, ['blocks.1.attn.hook_pattern'])).get('blocks.1.attn.hook_pattern')!;
    const [H, T] = p.dims;
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let s = 0; s < T; s++) {
          const v = p.data[(h * T + t) * T + s];
          if (s > t) expect(v).toBe(0);
          sum += v;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
  });
});

describe('bad input', () => {
  it('rejects an empty prompt, a prompt past the context, out-of-range ids and unknown hooks', async () => {
    await expect(hooked.run([], ['logits'])).rejects.toThrow(/empty/);
    await expect(hooked.run(new Array(513).fill(5), ['logits'])).rejects.toThrow(/513 tokens.*context is 512/);
    await expect(hooked.run([1, 600], ['logits'])).rejects.toThrow(/outside the vocabulary/);
    await expect(hooked.run([1], ['blocks.9.hook_resid_post'])).rejects.toThrow(/unknown hook: blocks.9.hook_resid_post/);
  });

  it('a truncated or garbled checkpoint gets a message naming what was expected', () => {
    const bytes = readStories('stories260K.bin');
    expect(() => parseLlama2cCheckpoint(bytes.slice(0, 20), 'x.bin')).toThrow(/x.bin: expected a llama2.c checkpoint of at least 28 bytes/);
    expect(() => parseLlama2cCheckpoint(bytes.slice(0, 100_000), 'x.bin')).toThrow(/truncated/);
    const garbled = bytes.slice();
    new DataView(garbled.buffer).setInt32(0, -7, true);
    expect(() => parseLlama2cCheckpoint(garbled, 'x.bin')).toThrow(/dim = -7/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setInt32(5 * 4, 1 << 30, true);
    expect(() => parseLlama2cCheckpoint(huge, 'x.bin')).toThrow(/vocab_size/);
  });

  it('parses an untied checkpoint (negative vocab_size) with its own classifier', () => {
    const tied = readStories('stories260K.bin');
    const V = 512, d = 64;
    const untied = new Uint8Array(tied.byteLength + V * d * 4);
    untied.set(tied);
    new DataView(untied.buffer).setInt32(5 * 4, -V, true);
    new Float32Array(untied.buffer, tied.byteLength, V * d).fill(0.5);
    const m = parseLlama2cCheckpoint(untied);
    expect(m.config.tied_embeddings).toBe(false);
    expect(m.weights.W_U).not.toBe(m.weights.W_E);
    expect(m.weights.W_U[0]).toBe(0.5);
  });
});
