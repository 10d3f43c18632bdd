/**
 * Q4_K projections kept quantised (issue 7): a seeded llama written as llama.cpp's Q4_K_M lays
 * it out — Q4_K projections and embedding, Q6_K output.weight, and Q6_K attn_v and ffn_down in
 * one of the two layers — opens with its Q4_K projections as blocks (run as MatMulNBits without
 * zero points plus a per-block offset) and its Q6_K ones as float32; every hook equals the graph on the
 * same weights dequantised to float32 (≤ 1e-4 relative, both orders of float32 rounding) on
 * onnxruntime-node and onnxruntime-web's wasm backend in Node; memory is counted from the
 * weights (144 bytes per 256 Q4_K values in JavaScript), and `inspect` says how each group is
 * held. Agreement with llama.cpp is in k-quants.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { hasQ8Projections, planWebGpuWeights } from '../../src/core/engine/webgpu-weights.ts';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../../src/core/engine/runtime.ts';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseGguf } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { quantizeQ4_K, writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { dequantizeQ4K } from '../../src/core/formats/k-quants.ts';
import { parameterCount } from '../../src/core/model/config.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { asFloat32, dequantize, isQuantized, type Matrix, matrixBytes, matrixSessionBytes, PROJECTIONS, quantizedMatrix, type QuantizedMatrix, toMatMulNBits } from '../../src/core/model/quantized.ts';
import { DataType, GraphBuilder } from '../../src/core/onnx/graph-builder.ts';
import { nbitsLinear } from '../../src/core/onnx/matmul-nbits.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { ggufVocabFromTokenizerJson } from '../../src/core/tokenizer/gguf-tokenizer.ts';
import { nodeBackend } from '../../src/node/open-model.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';
import { mistralTokenizerPaths } from '../../src/node/write-checkpoint.ts';

ortWeb.env.wasm.numThreads = 1; // no worker threads in a test process
const backends: Backend[] = [nodeBackend(), { ort: ortWeb as unknown as OrtModule, executionProviders: ['wasm'], label: 'onnxruntime-web (wasm, Node)' }];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-q4k-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
};

describe('QuantizedMatrix q4_k', () => {
  const r = mulberry32(5);
  const W = Float32Array.from({ length: 3 * 512 }, () => r() - 0.5);
  const blocks = quantizeQ4_K(W);
  const m = quantizedMatrix('q4_k', 3, 512, blocks);

  it('keeps the super-blocks; dequantize, matrixBytes, matrixSessionBytes and toMatMulNBits handle it', () => {
    expect(m.blocks).toBe(blocks);
    expect(dequantize(m)).toEqual(dequantizeQ4K(blocks, 3 * 512));
    expect(matrixBytes(m)).toBe(3 * 2 * 144);
    expect(matrixSessionBytes(m)).toBe(3 * 16 * 24); // 16 sub-blocks a row: 16 code bytes + float32 scale + float32 block offset
    const p = toMatMulNBits(m);
    expect([p.bits, p.N, p.K, p.nBlocks, p.blob, p.B.length, p.scales.length, p.zeroPoints?.length]).toEqual([4, 3, 512, 16, 16, 3 * 16 * 16, 48, 48]);
  });

  it('refuses a column count that is not a multiple of 256, or the wrong byte count', () => {
    for (const [rows, cols, bytes, msg] of [[3, 480, blocks, /q4_k \[3, 480\] needs a column count that is a multiple of 256, got 864 bytes/], [3, 512, blocks.subarray(1), /q4_k \[3, 512\] needs 864 bytes, got 863 bytes/]] as const) {
      let err: unknown;
      try {
        quantizedMatrix('q4_k', rows, cols, bytes);
      } catch (e) {
        err = e;
      }
      expect(isLenspressError(err)).toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
  });
});

describe('a Q4_K_M-style GGUF', () => {
  // Dimensions multiples of 256 (every 2-D weight's rows hold whole super-blocks); the vocabulary is Mistral's (the CLI needs a tokenizer).
  const original = randomModel(tinyConfig('llama', { d_model: 256, d_mlp: 512, n_layers: 2, n_heads: 4, n_kv_heads: 2, d_head: 64, rope_scaling: null }), 77);
  const ids = [1, ...Array.from({ length: 11 }, (_, i) => (i * 7919 + 5) % 32000)];
  const Q6K = new Set(['output.weight', 'blk.1.attn_v.weight', 'blk.1.ffn_down.weight']);
  const vocab = ggufVocabFromTokenizerJson(JSON.parse(readFileSync(mistralTokenizerPaths().tokenizerJson, 'utf8')));
  const { metadata, tensors } = ggufFromModel(original, 'F32', vocab, 'q4km');
  const bytes = writeGguf(metadata, tensors.map((t) => (t.shape.length === 2 ? { ...t, type: Q6K.has(t.name) ? 'Q6_K' : 'Q4_K' } : t)));
  const m = ggufToModel(parseGguf(bytes, 'q4km.gguf'));
  const floats = ggufToModel(parseGguf(bytes, 'q4km.gguf'), { quantized: false });
  const typeOf = (x: Matrix) => (isQuantized(x) ? x.type : 'float32');

  it('opens with Q4_K projections quantised and Q6_K ones float32, equal to the dequantised reading', () => {
    expect(m.config.source_dtype).toBe('q4_k');
    expect(PROJECTIONS.map((k) => typeOf(m.weights.blocks[0][k]))).toEqual(Array(7).fill('q4_k'));
    expect(PROJECTIONS.map((k) => typeOf(m.weights.blocks[1][k]))).toEqual(['q4_k', 'q4_k', 'float32', 'q4_k', 'q4_k', 'q4_k', 'float32']); // W_V, W_out are Q6_K
    expect(m.weights.W_E).toBeInstanceOf(Float32Array);
    for (const b of [0, 1]) for (const k of PROJECTIONS) expect(asFloat32(m.weights.blocks[b][k]), `${b} ${k}`).toEqual(floats.weights.blocks[b][k]);
    expect(floats.weights.blocks.every((b) => PROJECTIONS.every((k) => !isQuantized(b[k])))).toBe(true);
  });

  for (const backend of backends) {
    // Measured max relative error over the 32 hooks: node 1.25e-6, web wasm 1.31e-6 (float32 rounding of (code − 8)·scale + offset vs d·sc·q − dmin·m, and of the sums).
    it(`${backend.label}: every hook equals the graph on the dequantised float32 weights (≤ 1e-4 relative)`, { timeout: 60_000 }, async () => {
      const hooks = [...allHookNames(m.config), 'blocks.1.attn.hook_result', 'blocks.0.attn.hook_result_norm', 'blocks.0.attn.hook_result_cos'];
      const q = new HookedModel(m, backend), f = new HookedModel(floats, backend);
      const got = await q.run(ids, hooks), want = await f.run(ids, hooks);
      let worst = 0;
      for (const h of hooks) {
        const e = relErr(got.get(h)!.data, want.get(h)!.data);
        worst = Math.max(worst, e);
        expect(e, h).toBeLessThan(1e-4);
      }
      console.log(`${backend.label}: Q4_K MatMulNBits vs float32 graph, max relative error over ${hooks.length} hooks ${worst.toExponential(2)}`);
      // … while the unquantised original differs by the quantisation error, so the tolerance can tell them apart
      const o = await new HookedModel(original, backend).run(ids, ['logits']);
      expect(relErr(got.get('logits')!.data, o.get('logits')!.data)).toBeGreaterThan(1e-3);
      await Promise.all([q.release(), f.release()]);
    });
  }

  it('estimateMemory from the weights counts Q4_K at 144 bytes per 256 values, Q6_K (held float32) at 4 a value', () => {
    const c = m.config, params = parameterCount(c);
    const sizes = m.weights.blocks.flatMap((b) => PROJECTIONS.map((k) => b[k])).map((x) => ({ q: isQuantized(x), n: isQuantized(x) ? x.rows * x.cols : x.length }));
    const q4k = sizes.filter((s) => s.q).reduce((s, x) => s + x.n, 0);
    expect(q4k).toBe(256 * 256 * 2 + 128 * 256 * 2 + 512 * 256 * 3 + 256 * 256 * 2 + 128 * 256 + 512 * 256 * 2); // layer 0: all 7; layer 1: all but W_V, W_out
    const e = estimateMemory(c, 16, ['logits'], m.weights);
    expect(e.weightsBytes).toBe(4 * (params - q4k) + (q4k / 256) * 144);
    expect(e.sessionBytes).toBe(4 * (params - q4k) + (q4k / 32) * 24); // untied: no transposed copy of W_E
    // float32 weights: the weights path and the config-only path agree
    expect(estimateMemory(floats.config, 16, ['logits'], floats.weights)).toEqual(estimateMemory({ ...floats.config, source_dtype: 'float32' }, 16));
    // config only: every projection counted as Q4_K, so the Q6_K ones (float32 here) are undercounted
    const projValues = sizes.reduce((s, x) => s + x.n, 0);
    expect(estimateMemory(c, 16).weightsBytes).toBe(4 * (params - projValues) + (projValues / 256) * 144);
  });

  it('the graph gives MatMulNBits no zero_points input (WebGPU reads them as packed uint8; the CPU kernel leaves its 4-bit path), so WebGPU keeps Q4_K quantised', () => {
    const g = new GraphBuilder('q4k-ops'), seen: { op: string; inputs: readonly string[] }[] = [];
    const node = g.node.bind(g);
    g.node = (op, inputs, ...rest) => {
      seen.push({ op, inputs });
      return node(op, inputs, ...rest);
    };
    const x = g.input('x', DataType.FLOAT, [1, 'pos', 256]);
    nbitsLinear(g, m.weights.blocks[0].W_Q as QuantizedMatrix, 'W')(x);
    expect(seen.filter((s) => s.op === 'MatMulNBits').map((s) => s.inputs.length)).toEqual([3]);
    expect(seen.map((s) => s.op)).toEqual(['Reshape', 'ReduceSum', 'MatMulNBits', 'MatMul', 'Add']);
    expect(hasQ8Projections(m)).toBe(false);
    expect(planWebGpuWeights(m.config)).toEqual({ run: 'webgpu', dequantize: false });
  });

  it('lenspress inspect says how each group is held and counts memory from the weights', () => {
    const file = path.join(tmp, 'q4km.gguf');
    writeFileSync(file, bytes);
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), 'inspect', '--model', file, '--tokens', '16', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout);
    expect(info.tensorGroups.attention.held).toBe('q4_k ×7, float32 ×1');
    expect(info.tensorGroups.mlp.held).toBe('q4_k ×5, float32 ×1');
    expect(info.tensorGroups.embedding.held).toBe('float32');
    expect(info.heldAs).toBe('projections: attention q4_k ×7, float32 ×1, mlp q4_k ×5, float32 ×1; float32 otherwise');
    expect(info.memory.weightsBytes).toBe(estimateMemory(m.config, 16, ['logits'], m.weights).weightsBytes);
    const text = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), 'inspect', '--model', file], { encoding: 'utf8', timeout: 60_000 }).stdout;
    expect(text).toMatch(/attention +8 tensors +[\d,]+ params {2}stored q4_k, held q4_k ×7, float32 ×1/);
  });
});
