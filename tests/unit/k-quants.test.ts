/**
 * K-quants Q4_K and Q6_K (issue 7): the reader against hand-built super-blocks (every scale,
 * min and nibble distinct, so a swapped order fails), quantise → dequantise within the bound
 * the format implies, header refusals, and seeded llama checkpoints written with Q4_K
 * projections + Q6_K output (as llama.cpp's Q4_K_M; the projections run quantised) and all
 * Q6_K, read by Lenspress and by llama.cpp (node-llama-cpp 3.21.1, an independent reader and
 * forward pass).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { type Backend, createSession, type OrtModule } from '../../src/core/engine/runtime.ts';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { type GgufTensorToWrite, quantizeQ4_K, quantizeQ6_K, writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { f16ToF32 } from '../../src/core/formats/half.ts';
import { Q4_K_BYTES, Q6_K_BYTES, dequantizeQ4K, dequantizeQ6K, q4kToMatMulNBits, scaleMinK4 } from '../../src/core/formats/k-quants.ts';
import { parameterCount } from '../../src/core/model/config.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { isQuantized, matrixSize, PROJECTIONS } from '../../src/core/model/quantized.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { DataType, GraphBuilder } from '../../src/core/onnx/graph-builder.ts';
import { transpose } from '../../src/core/onnx/llama-graph.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { ggufVocabFromTokenizerJson } from '../../src/core/tokenizer/gguf-tokenizer.ts';
import { nodeBackend, openModel } from '../../src/node/open-model.ts';
import { mistralTokenizerPaths } from '../../src/node/write-checkpoint.ts';
import { llamaCppProbabilities } from '../helpers/llama-cpp.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-kquant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectThrows(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isLenspressError(err), `expected a LenspressError, got ${String(err)}`).toBe(true);
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('Q4_K: hand-built super-block', () => {
  // d = 1 (f16 0x3c00), dmin = 0.5 (0x3800); sub-block scales and mins, all distinct, four with high bits set
  const SC = [1, 2, 3, 4, 17, 33, 49, 63], M = [5, 6, 7, 8, 20, 36, 52, 62];
  // packed by hand: bytes 0–3 = sc_j | (sc_{j+4} >> 4) << 6; 4–7 = m_j | (m_{j+4} >> 4) << 6; 8–11 = (sc_{j+4} & 15) | (m_{j+4} & 15) << 4
  const SCALES = [65, 130, 195, 196, 69, 134, 199, 200, 65, 65, 65, 239];
  const block = new Uint8Array(Q4_K_BYTES);
  block.set([0x00, 0x3c, 0x00, 0x38, ...SCALES]);
  for (let i = 0; i < 128; i++) block[16 + i] = (i * 37 + 11) & 0xff; // every nibble pattern, not monotone

  it('get_scale_min_k4 unpacks the 6-bit scales and mins', () => {
    for (let j = 0; j < 8; j++) expect(scaleMinK4(block, 4, j)).toEqual([SC[j], M[j]]);
  });

  it('values 64c + l are low nibbles of qs[32c + l] (sub-block 2c), 64c + 32 + l high nibbles (2c + 1); x = sc·q − 0.5·m', () => {
    const x = dequantizeQ4K(block, 256);
    for (let e = 0; e < 256; e++) {
      const c = e >> 6, r = e & 63, byte = block[16 + 32 * c + (r & 31)], j = 2 * c + (r >> 5);
      const q = r < 32 ? byte & 15 : byte >> 4;
      expect(x[e], `value ${e}`).toBe(SC[j] * q - 0.5 * M[j]);
    }
    // spot values worked out by hand: qs[0] = 11 → x[0] = 1·11 − 2.5; qs[0] >> 4 = 0 → x[32] = 2·0 − 3
    expect([x[0], x[32]]).toEqual([8.5, -3]);
  });

  it('a second super-block reads its own d and dmin', () => {
    const two = new Uint8Array(2 * Q4_K_BYTES);
    two.set(block);
    two.set(block, Q4_K_BYTES);
    two.set([0x00, 0x40, 0x00, 0x00], Q4_K_BYTES); // d = 2, dmin = 0
    const x = dequantizeQ4K(two, 512);
    expect(x[256]).toBe(2 * 1 * 11);
  });
});

describe('Q6_K: hand-built super-block', () => {
  const block = new Uint8Array(Q6_K_BYTES);
  for (let i = 0; i < 128; i++) block[i] = (i * 53 + 7) & 0xff; // ql
  for (let i = 0; i < 64; i++) block[128 + i] = (i * 91 + 29) & 0xff; // qh
  const SC = Array.from({ length: 16 }, (_, i) => (i % 2 ? -1 : 1) * (3 * i + 1)); // int8, both signs
  SC.forEach((s, i) => { block[192 + i] = s & 0xff; });
  block.set([0x00, 0x34], 208); // d = 0.25

  it('value 128h + 32k + l: nibble (k ≥ 2 ? high : low) of ql[64h + 32(k mod 2) + l], bits 2k… of qh[32h + l], scale of (value ÷ 16)', () => {
    const x = dequantizeQ6K(block, 256);
    for (let e = 0; e < 256; e++) {
      const h = e >> 7, k = (e >> 5) & 3, l = e & 31;
      const lo = block[64 * h + 32 * (k & 1) + l], nib = k < 2 ? lo & 15 : lo >> 4;
      const q = (nib | (((block[128 + 32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
      expect(x[e], `value ${e}`).toBe(0.25 * SC[e >> 4] * q);
    }
    // by hand: ql[0] = 7, qh[0] = 29 = 0b00011101 → q = 7 | 1 << 4 = 23 − 32 = −9, scale 1 → −2.25
    expect(x[0]).toBe(-2.25);
  });
});

describe('quantise → dequantise within the bound of the format', () => {
  const rand = mulberry32(7);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  // 4 super-blocks: N(0, 1) with a few outliers; all positive; all negative; one zero sub-block, one constant
  const X = Float32Array.from({ length: 1024 }, (_, i) => {
    if (i < 256) return normal() * (i % 97 === 0 ? 8 : 1);
    if (i < 512) return 0.1 + Math.abs(normal());
    if (i < 768) return -0.1 - Math.abs(normal()) * 0.01;
    return i < 800 ? 0 : i < 832 ? 3.5 : normal() * 1e-3;
  });

  it('Q4_K: |x − x̂| ≤ d·sc/2 + dmin/2 per sub-block of 32, with d·sc ≤ range/15 + d + dmin/15', () => {
    const q = quantizeQ4_K(X), x = dequantizeQ4K(q, X.length);
    let worstRatio = 0;
    for (let b = 0; b < 4; b++) {
      const o = b * Q4_K_BYTES, d = f16ToF32(q[o] | (q[o + 1] << 8)), dmin = f16ToF32(q[o + 2] | (q[o + 3] << 8));
      for (let j = 0; j < 8; j++) {
        const [sc] = scaleMinK4(q, o + 4, j), sub = X.subarray(b * 256 + 32 * j, b * 256 + 32 * j + 32);
        const range = Math.max(0, ...sub) - Math.min(0, ...sub), step = Math.fround(d * sc);
        expect(step).toBeLessThanOrEqual(range / 15 + d + dmin / 15 + 1e-12);
        const bound = step / 2 + dmin / 2 + 1e-6 * (range + 1e-30);
        sub.forEach((v, l) => {
          const err = Math.abs(x[b * 256 + 32 * j + l] - v);
          expect(err, `block ${b} sub ${j} value ${l}`).toBeLessThanOrEqual(bound);
          if (b === 0) worstRatio = Math.max(worstRatio, err / range);
        });
      }
    }
    // N(0, 1) super-block: 4 bits over a sub-block's range, half a step is 1/30 of it, plus the 6-bit
    // rounding of its min (dmin/2); measured 0.0344
    expect(worstRatio).toBeLessThan(0.04);
    expect(x.subarray(768, 800).every((v) => v === 0)).toBe(true); // a zero sub-block stays exactly zero
  });

  it('Q6_K: |x − x̂| ≤ d·|sc|/2 per sub-block of 16, with d·|sc| ≤ max|x|/31 + d', () => {
    const q = quantizeQ6_K(X), x = dequantizeQ6K(q, X.length);
    for (let b = 0; b < 4; b++) {
      const o = b * Q6_K_BYTES, d = f16ToF32(q[o + 208] | (q[o + 209] << 8));
      for (let i = 0; i < 16; i++) {
        const sc = (q[o + 192 + i] << 24) >> 24, sub = X.subarray(b * 256 + 16 * i, b * 256 + 16 * i + 16);
        const amax = Math.max(...sub.map(Math.abs)), step = Math.abs(Math.fround(d * sc));
        expect(step).toBeLessThanOrEqual(amax / 31 + d + 1e-12);
        sub.forEach((v, l) => expect(Math.abs(x[b * 256 + 16 * i + l] - v), `block ${b} sub ${i} value ${l}`).toBeLessThanOrEqual(step / 2 + 1e-6 * amax));
      }
    }
  });

  // measured max |x − x̂| on the N(0, 1) super-block: Q4_K 0.78 (an 8σ outlier widens its sub-block), swapped 18.6; Q6_K 0.30, swapped 9.4
  it('a swapped order is caught: reading Q4_K nibbles high-first or Q6_K\'s two halves exchanged gives errors > 5× larger', () => {
    const q4 = quantizeQ4_K(X.subarray(0, 256)), swapped = q4.slice();
    for (let i = 16; i < Q4_K_BYTES; i++) swapped[i] = (q4[i] >> 4) | ((q4[i] & 15) << 4);
    const err = (a: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - X[i])));
    expect(err(dequantizeQ4K(swapped, 256))).toBeGreaterThan(5 * err(dequantizeQ4K(q4, 256)));
    const q6 = quantizeQ6_K(X.subarray(0, 256)), halves = q6.slice();
    halves.set(q6.subarray(0, 64), 64);
    halves.set(q6.subarray(64, 128), 0);
    expect(err(dequantizeQ6K(halves, 256))).toBeGreaterThan(5 * err(dequantizeQ6K(q6, 256)));
  });
});

describe('Q4_K as MatMulNBits with float zero points (not wired into the loader yet)', () => {
  const [N, K, T] = [48, 512, 5];
  const rand = mulberry32(11);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const W = Float32Array.from({ length: N * K }, () => normal() / Math.sqrt(K)), X = Float32Array.from({ length: T * K }, normal);
  const q = quantizeQ4_K(W);
  // two sub-blocks of the first super-block with scale 0 and a nonzero min (j = 1: low 6 bits of byte 1; j = 6: byte 10 low nibble + byte 2 top bits)
  q[4 + 1] &= 0xc0;
  q[4 + 5] = (q[4 + 5] & 0xc0) | 9;
  q[4 + 10] &= 0xf0;
  q[4 + 2] &= 0x3f;
  const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0, s = 0;
    for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
    return m / s;
  };
  const backends: Backend[] = [nodeBackend(), { ort: ortWeb as unknown as OrtModule, executionProviders: ['wasm'], label: 'onnxruntime-web (wasm, Node)' }];

  it('repacks exactly: (code − zp)·scale reproduces the dequantised values, sc = 0 sub-blocks included', () => {
    expect([scaleMinK4(q, 4, 1)[0], scaleMinK4(q, 4, 6)[0], scaleMinK4(q, 4, 1)[1]]).toEqual([0, 0, 9]);
    const p = q4kToMatMulNBits(q, N, K), ref = dequantizeQ4K(q, N * K);
    const mine = Float32Array.from({ length: N * K }, (_, i) => {
      const k = i >> 5, e = i & 31, byte = p.B[16 * k + (e >> 1)];
      return ((e & 1 ? byte >> 4 : byte & 15) - p.zeroPoints[k]) * p.scales[k];
    });
    expect(relErr(mine, ref)).toBeLessThan(1e-6); // measured 4.2e-8 (zp·scale rounds differently from dmin·m)
    expect(ref.subarray(32, 64).every((v) => v === ref[32] && v < 0)).toBe(true); // the sc = 0 sub-block is the constant −dmin·m
  });

  for (const backend of backends) {
    it(`${backend.label}: MatMulNBits(zero_points float) = MatMul on the dequantised weights (≤ 1e-5 relative)`, async () => {
      const p = q4kToMatMulNBits(q, N, K);
      const graph = (nbits: boolean) => {
        const g = new GraphBuilder('q4k');
        const x = g.input('x', DataType.FLOAT, [1, 'pos', K]);
        const y = nbits
          ? g.node('MatMulNBits', [x, g.initializer('B', p.B, [N, p.nBlocks, 16], DataType.UINT8), g.initializer('s', p.scales, [N * p.nBlocks]), g.initializer('z', p.zeroPoints, [N * p.nBlocks])], { K: { i: K }, N: { i: N }, bits: { i: 4 }, block_size: { i: 32 } }, 1, 'com.microsoft')[0]
          : g.op('MatMul', [x, g.initializer('W', transpose(dequantizeQ4K(q, N * K), N, K), [K, N])]);
        g.node('Identity', [y], {}, ['y']);
        g.output('y', DataType.FLOAT, [1, 'pos', N]);
        return g.toModel();
      };
      const out: Float32Array[] = [];
      for (const nbits of [true, false]) {
        const s = await createSession(backend, graph(nbits));
        out.push((await s.run({ x: new backend.ort.Tensor('float32', X, [1, T, K]) })).y.data as Float32Array);
        await s.release();
      }
      expect(relErr(out[0], out[1])).toBeLessThan(1e-5); // measured 5.2e-7 (node), 2.2e-7 (web wasm)
    });
  }
});

describe('K-quant tensors in GGUF files', () => {
  it('read through parseGguf like any other type; rows not a multiple of 256 are refused', () => {
    const data = Float32Array.from({ length: 2 * 512 }, (_, i) => Math.sin(i));
    const bytes = writeGguf([], [{ name: 'a', shape: [2, 512], data, type: 'Q4_K' }, { name: 'b', shape: [2, 512], data, type: 'Q6_K' }]);
    const g = parseGguf(bytes, 'k.gguf');
    expect([g.tensors.get('a')!.nbytes, g.tensors.get('b')!.nbytes]).toEqual([4 * 144, 4 * 210]);
    expect(readGgufTensor(g, 'a')).toEqual(dequantizeQ4K(quantizeQ4_K(data), data.length));
    expect(readGgufTensor(g, 'b')).toEqual(dequantizeQ6K(quantizeQ6_K(data), data.length));
    expect(() => writeGguf([], [{ name: 'c', shape: [4, 64], data: new Float32Array(256), type: 'Q4_K' }])).toThrow(/Q4_K needs rows of a multiple of 256 values, its rows have 64/);
    // an F32 [4, 64] tensor relabelled Q6_K: 64-value rows cannot hold a 256-value super-block
    const f = writeGguf([], [{ name: 'c', shape: [4, 64], data: new Float32Array(256), type: 'F32' }]);
    const at = Buffer.from(f).indexOf('c') + 1 + 4 + 16; // name, n_dims, 2 × ne → type
    new DataView(f.buffer).setUint32(at, 14, true);
    expectThrows(() => parseGguf(f, 'bad.gguf'), 'bad.gguf', /tensor c \(Q6_K\) has rows of 64 values, not a multiple of its super-block size 256 \(a K-quant\)/);
  });
});

describe('llama.cpp reads the K-quant GGUFs written here as Lenspress does', () => {
  // Dimensions multiples of 256: every 2-D weight's rows (d_model, d_mlp, n_heads·d_head) hold whole super-blocks.
  const model = randomModel(tinyConfig('llama', { d_model: 256, d_mlp: 512, n_layers: 2, n_heads: 4, n_kv_heads: 2, d_head: 64, rope_scaling: null }), 77);
  const ids = [1, ...Array.from({ length: 15 }, (_, i) => (i * 7919 + 5) % 32000)];

  async function write(file: string, typeOf: (t: GgufTensorToWrite) => GgufTensorToWrite['type']): Promise<void> {
    const vocab = ggufVocabFromTokenizerJson(JSON.parse(await readFile(mistralTokenizerPaths().tokenizerJson, 'utf8')));
    const { metadata, tensors } = ggufFromModel(model, 'F32', vocab, path.basename(file));
    await writeFile(file, writeGguf(metadata, tensors.map((t) => (t.shape.length === 2 ? { ...t, type: typeOf(t) } : t))));
  }

  /** max |log p_lenspress − log p_llama.cpp| over tokens llama.cpp gives p ≥ 1e-3, at every position. */
  async function compare(m: LoadedModel, file: string): Promise<number> {
    const V = m.config.d_vocab;
    const logits = (await new HookedModel(m, nodeBackend()).run(ids, ['logits'])).get('logits')!.data;
    const probs = await llamaCppProbabilities(file, ids);
    let worst = 0;
    ids.forEach((_, i) => {
      const row = logits.subarray(i * V, (i + 1) * V);
      const mx = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      for (const [tok, p] of probs[i]) if (p >= 1e-3) worst = Math.max(worst, Math.abs(row[tok as number] - lse - Math.log(p)));
    });
    return worst;
  }

  // llama.cpp quantises the activations to Q8_K in its Q4_K/Q6_K dot products, so log-probs
  // differ by a few 1e-2 as for Q4_0/Q8_0 (formats-gguf.test.ts). Measured max |Δ log p| over
  // tokens with p ≥ 1e-3 at 16 positions: Q4_K + Q6_K 3.47e-2, all Q6_K 3.16e-2; Lenspress
  // reading the Q4_K nibbles swapped: 6.4.
  it('Q4_K projections and embedding, Q6_K output.weight (llama.cpp\'s Q4_K_M layout): log-probs within 0.1', { timeout: 120_000 }, async () => {
    const file = path.join(tmp, 'q4k.gguf');
    await write(file, (t) => (t.name === 'output.weight' ? 'Q6_K' : 'Q4_K'));
    const opened = await openModel(file);
    const g = parseGguf(await readFile(file), 'q4k.gguf');
    expect(g.tensors.get('blk.0.attn_q.weight')!.typeName).toBe('Q4_K');
    expect(g.tensors.get('output.weight')!.typeName).toBe('Q6_K');
    // Q4_K projections kept quantised (MatMulNBits with float zero points), counted at 144 bytes per 256 values
    expect(opened.model.weights.blocks.every((b) => PROJECTIONS.every((k) => isQuantized(b[k]) && b[k].type === 'q4_k'))).toBe(true);
    expect(opened.model.config.source_dtype).toBe('q4_k');
    const projValues = opened.model.weights.blocks.reduce((s, b) => s + PROJECTIONS.reduce((t, k) => t + matrixSize(b[k]), 0), 0);
    expect(estimateMemory(opened.model.config, 16, ['logits'], opened.model.weights).weightsBytes).toBe(4 * (parameterCount(opened.model.config) - projValues) + (projValues / 256) * 144);
    const worst = await compare(opened.model, file);
    console.log(`Q4_K/Q6_K: llama.cpp vs lenspress max |Δ log p| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(0.1);

    // The same comparison with Lenspress reading every Q4_K byte's nibbles swapped: far outside the tolerance.
    const bytes = await readFile(file);
    for (const t of g.tensors.values()) {
      if (t.typeName !== 'Q4_K') continue;
      for (let b = t.offset; b < t.offset + t.nbytes!; b += Q4_K_BYTES) for (let i = b + 16; i < b + Q4_K_BYTES; i++) bytes[i] = (bytes[i] >> 4) | ((bytes[i] & 15) << 4);
    }
    const wrong = ggufToModel(parseGguf(bytes, 'swapped.gguf'));
    const swappedWorst = await compare(wrong, file);
    console.log(`Q4_K nibbles swapped: max |Δ log p| = ${swappedWorst.toExponential(2)}`);
    expect(swappedWorst).toBeGreaterThan(1);
  });

  it('Q6_K everywhere: log-probs within 0.05', { timeout: 120_000 }, async () => {
    const file = path.join(tmp, 'q6k.gguf');
    await write(file, () => 'Q6_K');
    const worst = await compare((await openModel(file)).model, file);
    console.log(`Q6_K: llama.cpp vs lenspress max |Δ log p| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(0.05);
  });
});
