/**
 * Cross-implementation check: stories260K log-probabilities at every position of a 64-token
 * prompt, Lenspress (onnxruntime-node, from the llama2.c .bin) vs llama.cpp (from the GGUF
 * of the same weights), within 1e-3.
 */
import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/node/open-model.ts';
import { llamaCppProbabilities } from '../helpers/llama-cpp.ts';
import { GOLDEN, storiesPath } from '../helpers/stories.ts';

describe('stories260K vs llama.cpp', () => {
  it('log-probabilities at every position of a 64-token prompt agree within 1e-3', { timeout: 120_000 }, async () => {
    const m = await openModel('stories260K');
    const ids = m.tokenizer.encode(`${GOLDEN.text} Lily was sad. Her mom came and said`, { addBos: true }).slice(0, 64);
    expect(ids.length).toBe(64);
    const V = m.model.config.d_vocab;
    const logits = (await m.hooked.run(ids, ['logits'])).get('logits')!.data;
    const theirs = await llamaCppProbabilities(storiesPath('stories260K.gguf'), ids);
    let worst = 0, compared = 0;
    for (let t = 0; t < ids.length; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((s, l) => s + Math.exp(l - max), 0));
      // Compare every token llama.cpp gives a probability above 1e-6 (log of smaller ones is noise).
      for (const [id, p] of theirs[t]) {
        if (p < 1e-6) continue;
        worst = Math.max(worst, Math.abs(row[id] - logZ - Math.log(p)));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(64 * 20);
    expect(worst).toBeLessThan(1e-3);
    console.log(`llama.cpp vs lenspress: max |Δ log p| = ${worst.toExponential(2)} over ${compared} (position, token) pairs`);
  });
});
