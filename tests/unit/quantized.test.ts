/**
 * Quantised weights run as quantised (MatMulNBits on the GGUF blocks as stored) and graphs
 * with external data.
 * - repacking is exact: MatMulNBits on the repacked blocks equals MatMul on the dequantised
 *   float32 weights (≤ 1e-5 × max|y|, both only rounding the float32 sums differently), on
 *   onnxruntime-node and on onnxruntime-web's wasm backend in Node;
 * - a quantised GGUF opens quantised, and every hook of its graph matches the plain-TypeScript
 *   reference forward pass on the dequantised weights (1e-4 relative);
 * - a graph built with external data gives bit-for-bit the hooks of the in-protobuf graph.
 */
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { type Backend, createSession, type OrtModule } from '../../src/core/engine/runtime.ts';
import { parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { quantizeQ4_0, quantizeQ8_0, writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import type { Intervention } from '../../src/core/model/interventions.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { asFloat32, dequantize, floatWeights, isQuantized, matrixBytes, PROJECTIONS, quantizedMatrix, type QuantizedMatrix, toMatMulNBits } from '../../src/core/model/quantized.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { DataType, GraphBuilder } from '../../src/core/onnx/graph-builder.ts';
import { buildLlamaModel, transpose } from '../../src/core/onnx/llama-graph.ts';
import { nbitsLinear } from '../../src/core/onnx/matmul-nbits.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { nodeBackend, openModel } from '../../src/node/open-model.ts';
import { maxAbsDiff } from '../helpers/stories.ts';

ortWeb.env.wasm.numThreads = 1; // no worker threads in a test process
const node = nodeBackend();
const web: Backend = { ort: ortWeb as unknown as OrtModule, executionProviders: ['wasm'], label: 'onnxruntime-web (wasm, Node)' };

const randn = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r()));
};
const quantize = (type: 'q8_0' | 'q4_0', W: Float32Array, rows: number, cols: number): QuantizedMatrix =>
  quantizedMatrix(type, rows, cols, type === 'q8_0' ? quantizeQ8_0(W) : quantizeQ4_0(W));
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbsDiff(a, b) / Math.max(...Array.from(b, Math.abs));

describe('MatMulNBits repacking of GGUF blocks', () => {
  it('dequantize agrees with the GGUF reader (an independent loop over the same bytes)', () => {
    const W = randn(6 * 96, 1);
    for (const t of ['Q8_0', 'Q4_0'] as const) {
      const file = parseGguf(writeGguf([], [{ name: 'w', shape: [6, 96], data: W, type: t }]), 'w.gguf');
      const m = quantize(t === 'Q8_0' ? 'q8_0' : 'q4_0', W, 6, 96);
      expect(dequantize(m)).toEqual(readGgufTensor(file, 'w'));
    }
  });

  it('Q4_0 nibbles are reordered to element 2i low, 2i + 1 high; Q8_0 codes are q + 128', () => {
    // one block: element e has code e % 16 (Q4_0) / e − 16 (Q8_0), d = 1
    const q4 = new Uint8Array(18), q8 = new Uint8Array(34);
    q4[1] = q8[1] = 0x3c; // f16 1.0
    for (let j = 0; j < 16; j++) q4[2 + j] = j | (j << 4); // ggml: element j low, j + 16 high
    for (let j = 0; j < 32; j++) q8[2 + j] = (j - 16) & 0xff;
    const p4 = toMatMulNBits(quantizedMatrix('q4_0', 1, 32, q4)), p8 = toMatMulNBits(quantizedMatrix('q8_0', 1, 32, q8));
    expect(Array.from(p4.B)).toEqual(Array.from({ length: 16 }, (_, i) => ((2 * i) % 16) | (((2 * i + 1) % 16) << 4)));
    expect(Array.from(p8.B)).toEqual(Array.from({ length: 32 }, (_, j) => j + 112));
    expect([p4.bits, p8.bits, p4.blob, p8.blob, p4.scales[0], p8.scales[0]]).toEqual([4, 8, 16, 32, 1, 1]);
  });

  const [N, K, T] = [48, 192, 5];
  const W = randn(N * K, 2), X = randn(T * K, 3);
  async function run(backend: Backend, m: QuantizedMatrix): Promise<{ nbits: Float32Array; matmul: Float32Array }> {
    const graph = (quantized: boolean) => {
      const g = new GraphBuilder('nbits-test');
      const x = g.input('x', DataType.FLOAT, [1, 'pos', K]);
      const y = quantized ? nbitsLinear(g, m, 'W')(x) : g.op('MatMul', [x, g.initializer('W', transpose(dequantize(m), N, K), [K, N])]);
      g.node('Identity', [y], {}, ['y']);
      g.output('y', DataType.FLOAT, [1, 'pos', N]);
      return g.toModel();
    };
    const out: Float32Array[] = [];
    for (const q of [true, false]) {
      const s = await createSession(backend, graph(q));
      const r = await s.run({ x: new backend.ort.Tensor('float32', X, [1, T, K]) });
      out.push(r.y.data as Float32Array);
      await s.release();
    }
    return { nbits: out[0], matmul: out[1] };
  }

  for (const type of ['q8_0', 'q4_0'] as const) {
    for (const backend of [node, web]) {
      it(`${type} on ${backend.label}: MatMulNBits = MatMul on the dequantised weights (≤ 1e-5 relative)`, async () => {
        const m = quantize(type, W, N, K);
        const { nbits, matmul } = await run(backend, m);
        expect(relErr(nbits, matmul)).toBeLessThan(1e-5);
        // … and not the float32 original: the quantisation error is visible, so the test can tell them apart
        const exact = new Float32Array(T * N);
        for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) { let s = 0; for (let k = 0; k < K; k++) s += X[t * K + k] * W[n * K + k]; exact[t * N + n] = s; }
        expect(relErr(nbits, exact)).toBeGreaterThan(1e-4);
      });
    }
  }
});

describe('quantised GGUF checkpoints', () => {
  const config = tinyConfig('mistral', { d_model: 128, d_mlp: 352, n_heads: 4, n_kv_heads: 2, d_head: 32, d_vocab: 500, n_layers: 2, sliding_window: 4 });
  const original = randomModel(config, 7);
  const ids = [1, 17, 203, 5, 88, 421, 9];

  for (const type of ['Q8_0', 'Q4_0'] as const) {
    it(`${type}: opens with quantised projections; every hook matches the reference on the dequantised weights (1e-4)`, async () => {
      const { metadata, tensors } = ggufFromModel(original, type);
      const m = ggufToModel(parseGguf(writeGguf(metadata, tensors), `t.${type}.gguf`));
      for (const k of PROJECTIONS) expect(isQuantized(m.weights.blocks[1][k]), k).toBe(true);
      expect(m.weights.W_E).toBeInstanceOf(Float32Array);
      const floats = ggufToModel(parseGguf(writeGguf(metadata, tensors), 'f.gguf'), { quantized: false });
      expect(isQuantized(floats.weights.blocks[0].W_Q)).toBe(false);
      for (const k of PROJECTIONS) expect(asFloat32(m.weights.blocks[0][k])).toEqual(floats.weights.blocks[0][k]);

      const hooks = allHookNames(m.config);
      const got = await new HookedModel(m, node).run(ids, [...hooks, 'blocks.1.attn.hook_result', 'blocks.0.attn.hook_result_norm', 'blocks.0.attn.hook_result_cos']);
      const ref = referenceForward(m.config, floatWeights(m.weights), ids);
      for (const [name, t] of got) {
        const want = name === 'logits' ? ref.logits : ref.hooks.get(name)!;
        expect(relErr(t.data, want), name).toBeLessThan(1e-4);
      }
      // the float graph of the same (dequantised) weights agrees too
      const fl = await new HookedModel(floats, node).run(ids, ['logits']);
      expect(relErr(got.get('logits')!.data, fl.get('logits')!.data)).toBeLessThan(1e-5);
    });
  }
});

describe('external data', () => {
  it('stories260K: every hook, with and without interventions, is bit-identical to the in-protobuf graph (node and wasm)', async () => {
    const { model } = await openModel('stories260K', { quiet: true });
    const ids = [1, 403, 407, 261, 378, 432, 383, 286];
    const hooks = allHookNames(model.config);
    const ext = buildLlamaModel(model.config, model.weights, { hooks }, { threshold: 0 });
    expect(ext.externalData.length).toBe(5 * 7 + 4); // the 35 projections, W_E, W_U, the RoPE tables moved out …
    expect(ext.bytes.byteLength).toBeLessThan(64 * 1024); // … leaving the graph a few KiB
    for (const backend of [node, web]) {
      const inside = new HookedModel(model, backend), outside = new HookedModel(model, backend, { threshold: 0 });
      const a = await inside.run(ids, hooks), b = await outside.run(ids, hooks);
      for (const h of hooks) expect(b.get(h)!.data, `${backend.label} ${h}`).toEqual(a.get(h)!.data);
      const ivs: Intervention[] = [{ kind: 'ablate_head', layer: 1, head: 3 }, { kind: 'add', layer: 2, position: 4, site: 'resid_mid', vector: Array.from({ length: 64 }, (_, i) => i / 64) }];
      const ai = await inside.run(ids, ['logits', 'blocks.3.hook_resid_post'], ivs), bi = await outside.run(ids, ['logits', 'blocks.3.hook_resid_post'], ivs);
      expect(bi.get('logits')!.data).toEqual(ai.get('logits')!.data);
      expect(bi.get('logits')!.data).not.toEqual(a.get('logits')!.data); // the interventions did something
      expect(bi.get('blocks.3.hook_resid_post')!.data).toEqual(ai.get('blocks.3.hook_resid_post')!.data);
      await Promise.all([inside.release(), outside.release()]);
    }
  });

  it('moves every initializer of at least minBytes out once the total passes the threshold', () => {
    const g = new GraphBuilder('ext');
    const x = g.input('x', DataType.FLOAT, [4]);
    g.node('Add', [x, g.initializer('big', new Float32Array(300), [300])], {}, ['y']);
    g.node('Add', [x, g.initializer('small', new Float32Array(4), [4])], {}, ['z']);
    const m = g.toModel({ threshold: 1000 });
    expect(m.externalData.map((f) => [f.path, f.data.byteLength])).toEqual([['lenspress-0.bin', 1200]]);
    expect(m.bytes.byteLength).toBeLessThan(400);
  });

  it('estimateMemory counts quantised projections at their block size', () => {
    const c = tinyConfig('mistral', { d_model: 4096, n_heads: 32, n_kv_heads: 8, d_head: 128, d_mlp: 14336, n_layers: 32 });
    const [f32, q8, q4] = (['float32', 'q8_0', 'q4_0'] as const).map((source_dtype) => estimateMemory({ ...c, source_dtype }, 16));
    const proj = 32 * (2 * 4096 * 4096 + 2 * 1024 * 4096 + 3 * 14336 * 4096);
    expect(f32.weightsBytes - q8.weightsBytes).toBe(proj * 4 - (proj / 32) * 34);
    expect(f32.weightsBytes - q4.weightsBytes).toBe(proj * 4 - (proj / 32) * 18);
    const m = randomModel(tinyConfig('llama', { d_vocab: 64, n_layers: 1 }), 1);
    expect(matrixBytes(quantize('q4_0', asFloat32(m.weights.blocks[0].W_Q), 64, 64))).toBe((64 * 64 / 32) * 18);
  });
});
