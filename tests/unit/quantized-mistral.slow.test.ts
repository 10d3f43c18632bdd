/**
 * SLOW (opt-in: LENSPRESS_SLOW=1 npx vitest run tests/unit/quantized-mistral.slow.test.ts;
 * about 4 minutes and 9 GB of memory on two cores, most of it randomModel's 70 s and the JS
 * quantisation). Mistral 7B's per-layer shapes (d_model 4096, 32 heads, 8 kv heads, d_head 128,
 * d_mlp 14336, vocabulary 32000) with 2 layers, seeded random weights:
 * - float32 (2.8 GB of weights: over the 2 GiB protobuf limit, so the graph is built with
 *   external data) against the reference forward pass (1e-4 × max|logit|);
 * - written as GGUF Q8_0 and Q4_0 and opened quantised: logits against the reference forward
 *   pass on the dequantised weights (1e-4 × max|logit|), and their distance from the float32
 *   logits (the quantisation error) printed with the memory each variant takes.
 */
import { describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { parseGguf } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { isQuantized, matrixBytes, PROJECTIONS } from '../../src/core/model/quantized.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { buildLlamaModel } from '../../src/core/onnx/llama-graph.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { nodeBackend } from '../../src/node/open-model.ts';
import { maxAbsDiff } from '../helpers/stories.ts';

const SLOW = process.env.LENSPRESS_SLOW === '1';
const GB = 2 ** 30;
const rss = () => process.memoryUsage().rss;
const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Sizes of the graph HookedModel builds (built here once more and dropped, so it does not count below). */
function graphSizes(m: LoadedModel): { graphBytes: number; extBytes: number; files: number; buildS: number } {
  const t = performance.now();
  const onnx = buildLlamaModel(m.config, m.weights, { hooks: ['logits'] });
  return { graphBytes: onnx.bytes.byteLength, extBytes: onnx.externalData.reduce((s, f) => s + f.data.byteLength, 0), files: onnx.externalData.length, buildS: (performance.now() - t) / 1000 };
}

function weightBytes(m: LoadedModel): number {
  const w = m.weights;
  let n = w.W_E.byteLength + (w.W_U === w.W_E ? 0 : w.W_U.byteLength) + w.ln_final_w.byteLength;
  for (const b of w.blocks) n += b.ln1_w.byteLength + b.ln2_w.byteLength + PROJECTIONS.reduce((s, k) => s + matrixBytes(b[k]), 0);
  return n;
}

describe.skipIf(!SLOW)('Mistral-7B-shaped checkpoint, 2 layers (slow, LENSPRESS_SLOW=1)', () => {
  const config = tinyConfig('mistral', { d_model: 4096, n_heads: 32, n_kv_heads: 8, d_head: 128, d_mlp: 14336, d_vocab: 32000, n_layers: 2, sliding_window: 4096 });
  const ids = [1, 415, 2936, 9060, 285, 461];
  const report: string[] = [];
  // Long synchronous stretches (randomModel alone is ~80 s) starve vitest's worker RPC, which
  // then times out; after each line the event loop gets a moment to answer it.
  const log = async (s: string) => {
    report.push(s);
    console.log(s);
    await new Promise((r) => setTimeout(r, 250));
  };

  it('float32 (external data), Q8_0 and Q4_0 (MatMulNBits) against the reference forward pass', { timeout: 900_000 }, async () => {
    await log('Mistral-7B-shaped, 2 layers: generating the float32 checkpoint');
    let t = performance.now();
    const original = randomModel(config, 7);
    await log(`randomModel: ${((performance.now() - t) / 1000).toFixed(1)} s, weights ${(weightBytes(original) / GB).toFixed(2)} GiB`);
    const V = config.d_vocab, last = (x: Float32Array) => x.subarray((ids.length - 1) * V);

    t = performance.now();
    const ref32 = referenceForward(config, original.weights, ids).logits;
    await log(`reference forward (float32, ${ids.length} tokens): ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const scale = maxAbs(ref32);

    const measure = async (name: string, m: LoadedModel, want: Float32Array) => {
      const { graphBytes, extBytes, files, buildS } = graphSizes(m);
      gc();
      const before = rss();
      t = performance.now();
      const hooked = new HookedModel(m, nodeBackend());
      const logits = (await hooked.run(ids, ['logits'])).get('logits')!.data;
      const firstRunS = (performance.now() - t) / 1000;
      t = performance.now();
      await hooked.run(ids, ['logits']);
      const runS = (performance.now() - t) / 1000;
      gc();
      const sessionRss = rss() - before;
      await hooked.release();
      const err = maxAbsDiff(logits, want) / scale;
      await log(`${name}: JS weights ${(weightBytes(m) / GB).toFixed(2)} GiB; graph ${(graphBytes / 2 ** 20).toFixed(2)} MiB + external ${(extBytes / GB).toFixed(2)} GiB in ${files} files (built in ${buildS.toFixed(1)} s); session + first run ${firstRunS.toFixed(1)} s (rss +${(sessionRss / GB).toFixed(2)} GiB with the session held); warm run ${runS.toFixed(2)} s; max|Δlogit| vs reference ${err.toExponential(2)} × max|logit|`);
      return { logits, err };
    };

    const f32 = await measure('float32', original, ref32);
    expect(f32.err).toBeLessThan(1e-4);

    for (const type of ['Q8_0', 'Q4_0'] as const) {
      t = performance.now();
      const { metadata, tensors } = ggufFromModel(original, type);
      const bytes = writeGguf(metadata, tensors);
      const m = ggufToModel(parseGguf(bytes, `mistral-shaped.${type}.gguf`));
      await log(`${type}: GGUF ${(bytes.byteLength / GB).toFixed(2)} GiB written and opened in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      for (const k of PROJECTIONS) expect(isQuantized(m.weights.blocks[0][k])).toBe(true);
      t = performance.now();
      const ref = referenceForward(m.config, m.weights, ids).logits; // dequantises layer by layer
      await log(`${type}: reference forward on the dequantised weights ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const q = await measure(type, m, ref);
      expect(q.err).toBeLessThan(1e-4);
      const quantErr = maxAbsDiff(q.logits, f32.logits) / scale;
      const top = (x: Float32Array) => last(x).indexOf(last(x).reduce((m, v) => Math.max(m, v), -Infinity));
      await log(`${type}: quantisation error max|Δlogit| vs float32 ${quantErr.toExponential(2)} × max|logit| (max|logit| ${scale.toFixed(2)}); last-position argmax ${top(q.logits) === top(f32.logits) ? 'agrees' : 'differs'}`);
      expect(quantErr).toBeGreaterThan(0);
      expect(quantErr).toBeLessThan(type === 'Q8_0' ? 0.05 : 0.5);
    }
    console.log(report.join('\n'));
  });
});
