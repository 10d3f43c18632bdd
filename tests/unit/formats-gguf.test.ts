/**
 * GGUF: the real stories260K.gguf against stories260K.bin; seeded checkpoints written as GGUF
 * (F32, F16, Q8_0, Q4_0) against the same weights as a Hugging Face folder and against
 * llama.cpp itself (node-llama-cpp 3.21.1, an independent reader and forward pass); ggml's
 * quantisers against golden blocks; malformed files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { isLenspressError } from '../../src/core/errors.ts';
import { GGUF_VALUE, parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { asFloat32 } from '../../src/core/model/quantized.ts';
import { type GgufWriteValue, quantizeQ4_0, quantizeQ8_0, writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { f16ToF32, roundToF16 } from '../../src/core/formats/half.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { allHookNames } from '../../src/core/model/hooks.ts';
import type { Architecture } from '../../src/core/model/config.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { nodeBackend, openModel } from '../../src/node/open-model.ts';
import { writeGgufCheckpoint, writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { llamaCppProbabilities } from '../helpers/llama-cpp.ts';
import { maxAbsDiff, readStories, storiesPath } from '../helpers/stories.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-gguf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ids = Array.from({ length: 40 }, (_, i) => (i * 7919 + 1) % 32000);
const logitsOf = async (m: LoadedModel, t: number[] = ids) => (await new HookedModel(m, nodeBackend()).run(t, ['logits'])).get('logits')!.data;
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

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

describe('stories260K.gguf (real file, llama.cpp converter, all F32)', () => {
  const gguf = parseGguf(readStories('stories260K.gguf'), 'stories260K.gguf');
  const fromGguf = ggufToModel(gguf);
  const fromBin = parseLlama2cCheckpoint(readStories('stories260K.bin'));

  it('header, metadata and fastest-first dimensions', () => {
    expect(gguf.version).toBe(3);
    expect(gguf.alignment).toBe(32);
    expect(gguf.tensors.size).toBe(48);
    expect(gguf.metadata.get('general.architecture')).toBe('llama');
    expect(gguf.metadata.get('llama.feed_forward_length')).toBe(172);
    expect((gguf.metadata.get('tokenizer.ggml.tokens') as string[]).slice(259, 262)).toEqual(['\u2581t', 'he', '\u2581a']);
    const emb = gguf.tensors.get('token_embd.weight')!;
    expect(emb.ne).toEqual([64, 512]);
    expect(emb.shape).toEqual([512, 64]);
    expect(gguf.tensors.get('blk.0.ffn_down.weight')!.shape).toEqual([64, 172]);
    expect(fromGguf.config).toMatchObject({ arch: 'llama', d_model: 64, d_mlp: 172, n_layers: 5, n_heads: 8, n_kv_heads: 4, d_head: 8, d_vocab: 512, rope_style: 'interleaved', rope_theta: 10000 });
  });

  it('holds exactly the weights of stories260K.bin', () => {
    const w = fromGguf.weights, b = fromBin.weights;
    expect(maxAbsDiff(w.W_E, b.W_E)).toBe(0);
    expect(maxAbsDiff(w.W_U, b.W_U)).toBe(0); // the converter stores the tied classifier as output.weight
    expect(maxAbsDiff(w.ln_final_w, b.ln_final_w)).toBe(0);
    w.blocks.forEach((blk, l) => {
      for (const k of ['ln1_w', 'W_Q', 'W_K', 'W_V', 'W_O', 'ln2_w', 'W_gate', 'W_in', 'W_out'] as const) expect(maxAbsDiff(asFloat32(blk[k]!), asFloat32(b.blocks[l][k]!)), `${l}.${k}`).toBe(0);
    });
  });

  it('gives the logits and hooks of stories260K.bin (64 tokens, ONNX; ≤ 1e-6)', async () => {
    const storyIds = [1, ...Array.from({ length: 63 }, (_, i) => (i * 97 + 5) % 512)];
    const names = allHookNames(fromBin.config);
    const a = await new HookedModel(fromGguf, nodeBackend()).run(storyIds, names);
    const b = await new HookedModel(fromBin, nodeBackend()).run(storyIds, names);
    for (const n of names) expect(maxAbsDiff(a.get(n)!.data, b.get(n)!.data), n).toBeLessThan(1e-6);
  });
});

describe('ggml quantisation', () => {
  // Two blocks, with a ±0.75 magnitude tie in the second (the first one sets Q4_0's sign).
  // Golden bytes from a numpy float32 port of ggml-quants.c quantize_row_q8_0_ref / q4_0_ref.
  const X = Float32Array.from([0.0, 1.9326530694961548, 2.9563491344451904, 2.602627992630005, 1.0049644708633423, -7.900000095367432, -2.614727258682251, -2.9473578929901123,
    -1.893799901008606, 0.05044170096516609, 1.9839597940444946, 2.9645047187805176, 2.5637967586517334, 0.9572950601577759, -1.0994373559951782, -2.639087200164795,
    -2.937533140182495, -1.8414113521575928, 0.10086914151906967, 2.008709192276001, 2.9718220233917236, 2.537240505218506, 0.9093550443649292, -1.146214246749878,
    -2.6497011184692383, -2.926877975463867, -1.8144984245300293, 0.15126806497573853, 2.0458908081054688, 2.978299140930176, 2.5099668502807617, 0.8741579651832581,
    -0.29816675186157227, 0.0, -0.7288488149642944, -0.44351816177368164, 0.05040605366230011, 0.520623505115509, 0.749233603477478, 0.6204959154129028, 0.75, -0.75,
    -0.6769159436225891, -0.7257720828056335, -0.43328627943992615, 0.06623084098100662, 0.5296270847320557, 0.7471814751625061, 0.6133247017860413, 0.19101175665855408,
    -0.321137011051178, -0.6822500228881836, -0.7192401885986328, -0.4229319095611572, 0.07553782314062119, 0.5384809374809265, 0.7481680512428284, 0.6059800386428833,
    0.1787901520729065, -0.32923755049705505, -0.6873911619186401, -0.7190039753913879, -0.41245797276496887, 0.08807344734668732]);
  const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');

  it('Q8_0 and Q4_0 blocks are byte-identical to ggml reference quantisation', () => {
    expect(hex(quantizeQ8_0(X))).toBe('f62b001f302a1081d6d1e2012030290feed6d1e2022030290feed5d1e3022130280e0c1ece0085b509587f697f818d85b70b5a7f6820ca8c86b80d5b7f671ec88c86ba0f');
    expect(hex(quantizeQ4_0(X))).toBe('e63b586a8babb9b0957556586a8babb9b79500ae1b68bffdf7d27021002f6fcffdf7c270');
  });

  it('dequantises by the block layouts: Q8_0 q·d, Q4_0 (nibble − 8)·d with low nibbles first', () => {
    const file = (type: 'Q8_0' | 'Q4_0' | 'F16') => parseGguf(writeGguf([], [{ name: 't', shape: [2, 32], data: X, type }]), 't.gguf');
    const q8 = quantizeQ8_0(X), q4 = quantizeQ4_0(X);
    const d8 = [0, 1].map((b) => f16ToF32(q8[b * 34] | (q8[b * 34 + 1] << 8)));
    const d4 = [0, 1].map((b) => f16ToF32(q4[b * 18] | (q4[b * 18 + 1] << 8)));
    const exp8 = Float32Array.from(X, (_, i) => ((q8[Math.floor(i / 32) * 34 + 2 + (i % 32)] << 24) >> 24) * d8[Math.floor(i / 32)]);
    const exp4 = Float32Array.from(X, (_, i) => {
      const b = Math.floor(i / 32), j = i % 32, byte = q4[b * 18 + 2 + (j % 16)];
      return ((j < 16 ? byte & 15 : byte >> 4) - 8) * d4[b];
    });
    expect(readGgufTensor(file('Q8_0'), 't')).toEqual(exp8);
    expect(readGgufTensor(file('Q4_0'), 't')).toEqual(exp4);
    expect(readGgufTensor(file('F16'), 't')).toEqual(X.map(roundToF16));
    // and they approximate X: Q8_0 within d/2 (+ the f16 rounding of d), Q4_0 within one step
    X.forEach((v, i) => {
      expect(Math.abs(exp8[i] - v)).toBeLessThanOrEqual(Math.abs(d8[Math.floor(i / 32)]) * 0.51);
      expect(Math.abs(exp4[i] - v)).toBeLessThanOrEqual(Math.abs(d4[Math.floor(i / 32)]) * 1.01);
    });
  });
});

describe('metadata of every GGUF value type', () => {
  it('reads scalars, 64-bit values beyond 2^53 as bigint, strings, nested arrays', () => {
    const u8 = (...v: number[]) => Uint8Array.from(v);
    const le = (n: number, bytes: number) => u8(...Array.from({ length: bytes }, (_, i) => Number((BigInt(n) >> BigInt(8 * i)) & 0xffn)));
    const str = (s: string) => { const b = new TextEncoder().encode(s); return [le(b.length, 8), b]; };
    const f32 = (v: number) => new Uint8Array(Float32Array.of(v).buffer);
    const f64 = (v: number) => new Uint8Array(Float64Array.of(v).buffer);
    const kv = (key: string, type: number, ...value: Uint8Array[]) => [...str(key), le(type, 4), ...value];
    const V = GGUF_VALUE;
    const parts = [
      u8(0x47, 0x47, 0x55, 0x46), le(3, 4), le(0, 8), le(13, 8),
      ...kv('u8', V.UINT8, u8(250)), ...kv('i8', V.INT8, u8(0xfe)), ...kv('u16', V.UINT16, le(65000, 2)), ...kv('i16', V.INT16, u8(0x00, 0x80)),
      ...kv('u32', V.UINT32, le(4000000000, 4)), ...kv('i32', V.INT32, u8(0xff, 0xff, 0xff, 0xff)), ...kv('f32', V.FLOAT32, f32(0.5)),
      ...kv('bool', V.BOOL, u8(1)), ...kv('str', V.STRING, ...str('héllo ▁')), ...kv('u64', V.UINT64, u8(0, 0, 0, 0, 0, 0, 0, 0x80)),
      ...kv('i64', V.INT64, le(-5 + 2 ** 32, 4), u8(0xff, 0xff, 0xff, 0xff)), ...kv('f64', V.FLOAT64, f64(Math.PI)),
      ...kv('nested', V.ARRAY, le(V.ARRAY, 4), le(2, 8), le(V.INT16, 4), le(2, 8), le(1, 2), le(2, 2), le(V.STRING, 4), le(1, 8), ...str('x')),
    ];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { bytes.set(p, at); at += p.length; }
    const m = parseGguf(bytes, 'kv.gguf').metadata;
    expect(Object.fromEntries(m)).toEqual({
      u8: 250, i8: -2, u16: 65000, i16: -32768, u32: 4000000000, i32: -1, f32: 0.5, bool: true, str: 'héllo ▁', u64: 2n ** 63n, i64: -5, f64: Math.PI, nested: [[1, 2], ['x']],
    });
  });

  it('writer: string, array and 64-bit values round-trip', () => {
    const meta: [string, GgufWriteValue][] = [['a', { type: 'string[]', value: ['', '\ufeff', '▁x'] }], ['b', { type: 'f32[]', value: [1.5, -2] }], ['c', { type: 'i32[]', value: [-7] }], ['d', { type: 'u64', value: 2 ** 40 }], ['e', { type: 'bool', value: false }]];
    const m = parseGguf(writeGguf(meta, [], 64), 'w.gguf');
    expect(Object.fromEntries(m.metadata)).toEqual({ a: ['', '\ufeff', '▁x'], b: [1.5, -2], c: [-7], d: 2 ** 40, e: false, 'general.alignment': 64 });
    expect(m.alignment).toBe(64);
  });
});

/** Seeded checkpoints of each architecture: llama with linear RoPE scaling (llama3 cannot be stored in GGUF metadata). */
const seeded = (arch: Architecture) => randomModel(arch === 'llama' ? tinyConfig(arch, { rope_scaling: { type: 'linear', factor: 2 } }) : tinyConfig(arch), 1234);

describe.each(['llama', 'mistral', 'gemma', 'qwen2'] as Architecture[])('%s: GGUF written from the weights of a Hugging Face folder', (arch) => {
  const model = seeded(arch);
  let folderLogits: Float32Array;

  it('F32: same logits as the safetensors folder within 1e-4 (llama/mistral: q/k permuted to interleaved pairs)', async () => {
    const dir = path.join(tmp, `${arch}-hf`);
    await writeHfCheckpoint(model, dir);
    folderLogits = await logitsOf((await openModel(dir)).model);
    const file = path.join(tmp, `${arch}-F32.gguf`);
    await writeGgufCheckpoint(model, file);
    const g = await openModel(file);
    expect(g.model.config.rope_style).toBe(arch === 'llama' || arch === 'mistral' ? 'interleaved' : 'half');
    // GGUF stores rms eps as float32
    expect(g.model.config).toEqual({ ...model.config, rope_style: g.model.config.rope_style, norm_eps: Math.fround(model.config.norm_eps) });
    expect(maxAbsDiff(await logitsOf(g.model), folderLogits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(await logitsOf(g.model), referenceForward(g.model.config, g.model.weights, ids).logits)).toBeLessThan(1e-4);
    expect(g.tokenizer.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
  });

  // Quantisation error, not a loader tolerance (the layouts are checked byte for byte above and
  // against llama.cpp below). Measured max |Δlogit| (÷ max |logit|) on these N(0, 1/fan_in) weights:
  // F16 3.5e-3 (7.1e-4) llama … 1.4e-2 (1.8e-4) gemma; Q8_0 8.4e-2 (1.7e-2) llama, 8.2e-2 (1.7e-2)
  // mistral, 7.8e-2 (1.5e-2) qwen2, 0.34 (4.3e-3) gemma; Q4_0 1.29 (0.26) llama, 1.44 (0.30) mistral,
  // 1.50 (0.29) qwen2, 5.7 (7.2e-2) gemma (max |logit| 4.8–5.3, gemma 79.5).
  it.each([['F16', 2e-3], ['Q8_0', 3e-2], ['Q4_0', 0.4]] as const)('%s: logits within %s × max|logit| of float32', async (type, rel) => {
    const file = path.join(tmp, `${arch}-${type}.gguf`);
    await writeGgufCheckpoint(model, file, { type });
    const g = await openModel(file);
    expect(g.model.config.source_dtype).toBe(type.toLowerCase().replace('f16', 'float16'));
    const d = maxAbsDiff(await logitsOf(g.model), folderLogits);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(rel * maxAbs(folderLogits));
  });
});

describe('llama.cpp reads the GGUF files written here as Lenspress does', () => {
  /** max |log p_lenspress − log p_llama.cpp| over tokens llama.cpp gives p ≥ pMin, at every position. */
  async function compare(model: LoadedModel, file: string, t: number[], pMin: number): Promise<number> {
    const logits = await logitsOf((await openModel(file)).model, t);
    const probs = await llamaCppProbabilities(file, t);
    const V = model.config.d_vocab;
    let worst = 0;
    t.forEach((_, i) => {
      const row = logits.subarray(i * V, (i + 1) * V);
      const mx = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      for (const [tok, p] of probs[i]) if (p >= pMin) worst = Math.max(worst, Math.abs(row[tok as number] - lse - Math.log(p)));
    });
    return worst;
  }
  const t16 = [1, ...Array.from({ length: 15 }, (_, i) => (i * 7919 + 5) % 32000)];

  // F32 measured ≤ 9e-6. Quantised: llama.cpp also quantises the activations to Q8_0 in its
  // Q·Q dot products, so log-probs differ by ~3e-2 (measured ≤ 4.1e-2); a wrong block layout
  // or permutation gives differences of order 1.
  it.each([['llama', 'F32', 1e-4], ['llama', 'Q8_0', 0.1], ['llama', 'Q4_0', 0.1], ['mistral', 'F32', 1e-4], ['qwen2', 'F32', 1e-4]] as const)('%s %s: log-probs within %s', async (arch, type, tol) => {
    const model = randomModel(tinyConfig(arch, { rope_scaling: null }), 1234);
    const file = path.join(tmp, `cpp-${arch}-${type}.gguf`);
    await writeGgufCheckpoint(model, file, { type });
    // 16 tokens: llama.cpp does not apply a sliding window to llama-architecture files (W = 16 here)
    expect(await compare(model, file, t16, 1e-3)).toBeLessThan(tol);
  });

  it('gemma F32: log-probs within 1e-2 (ggml\'s CPU GELU reads a float16 table; measured 2.1e-3)', async () => {
    const model = randomModel(tinyConfig('gemma'), 1234);
    const file = path.join(tmp, 'cpp-gemma.gguf');
    await writeGgufCheckpoint(model, file);
    expect(await compare(model, file, t16, 1e-25)).toBeLessThan(1e-2);
  });

  it('stories260K.gguf: Lenspress and llama.cpp agree (≤ 1e-4)', async () => {
    const model = ggufToModel(parseGguf(readStories('stories260K.gguf')));
    expect(await compare(model, storiesPath('stories260K.gguf'), [1, 403, 407, 261, 378, 432, 383, 286], 1e-4)).toBeLessThan(1e-4);
  });
});

describe('bad GGUF files: errors name the file (and the tensor)', () => {
  const small = randomModel(tinyConfig('llama', { n_layers: 1, d_vocab: 256, rope_scaling: null }), 5);
  const parts = () => ggufFromModel(small, 'F32');
  const good = () => { const p = parts(); return writeGguf(p.metadata, p.tensors); };
  const open = (bytes: Uint8Array) => ggufToModel(parseGguf(bytes, 'bad.gguf'));

  it('the small file itself loads', () => {
    expect(open(good()).config.d_vocab).toBe(256);
  });

  it('bad magic, unsupported version', () => {
    const b = good();
    b[0] = 0x67;
    expectThrows(() => open(b), 'bad.gguf', /starts with "gGUF", not the magic "GGUF"/);
    const v = good();
    v[4] = 2;
    expectThrows(() => open(v), 'bad.gguf', /GGUF version 2; only version 3/);
  });

  it('truncated: in the header, in the metadata, in a tensor\'s data', () => {
    const b = good();
    expectThrows(() => open(b.subarray(0, 10)), 'bad.gguf', /ends inside tensor_count/);
    expectThrows(() => open(b.subarray(0, 200)), 'bad.gguf', /truncated|ends inside|more than/);
    expectThrows(() => open(b.subarray(0, b.length - 40)), 'bad.gguf', 'tensor output.weight', /truncated/);
  });

  it('counts and lengths beyond the file are refused before allocating', () => {
    const b = good();
    new DataView(b.buffer).setBigUint64(8, 1n << 40n, true); // tensor_count
    expectThrows(() => open(b), 'bad.gguf', /tensor_count is 1099511627776, more than the \d+ the rest of the file could hold/);
    const s = writeGguf([['general.architecture', { type: 'string', value: 'llama' }]], []);
    new DataView(s.buffer).setBigUint64(24, 1n << 50n, true); // the key's length
    expectThrows(() => parseGguf(s, 'bad.gguf'), 'bad.gguf', /the length of key 0 is \d+, more than/);
  });

  it('a missing tensor, a shape that contradicts the metadata, an unsupported tensor type', () => {
    const p = parts();
    expectThrows(() => open(writeGguf(p.metadata, p.tensors.filter((t) => t.name !== 'blk.0.ffn_up.weight'))), 'bad.gguf', 'tensor blk.0.ffn_up.weight is missing');
    const meta = p.metadata.map(([k, v]): [string, GgufWriteValue] => (k === 'llama.feed_forward_length' ? [k, { type: 'u32', value: 128 }] : [k, v]));
    expectThrows(() => open(writeGguf(meta, p.tensors)), 'bad.gguf', 'tensor blk.0.ffn_gate.weight has shape [160, 64] (ne [64, 160]), but the metadata implies [128, 64]');
    const q = writeGguf(p.metadata, p.tensors);
    const at = Buffer.from(q).indexOf('blk.0.attn_v.weight') + 'blk.0.attn_v.weight'.length + 4 + 16; // name, n_dims, 2 × ne → type
    new DataView(q.buffer).setUint32(at, 6, true); // F32 → Q5_0
    expectThrows(() => open(q), 'bad.gguf', /tensor blk.0.attn_v.weight is Q5_0; Lenspress reads F32, F16, BF16, Q8_0, Q4_0/);
  });

  it('unsupported architecture, llama3 rope_freqs, a non-SentencePiece tokenizer', async () => {
    const p = parts();
    const arch = p.metadata.map(([k, v]): [string, GgufWriteValue] => (k === 'general.architecture' ? [k, { type: 'string', value: 'falcon' }] : [k, v]));
    expectThrows(() => open(writeGguf(arch, p.tensors)), 'bad.gguf', /general.architecture falcon is not supported \(supported: llama, gemma, qwen2\)/);
    const freqs = [...p.tensors, { name: 'rope_freqs.weight', shape: [4], data: new Float32Array(4).fill(1), type: 'F32' as const }];
    expectThrows(() => open(writeGguf(p.metadata, freqs)), 'bad.gguf', /rope_freqs.weight .* not supported/);
    const file = path.join(tmp, 'gpt2-tok.gguf');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, writeGguf([...p.metadata, ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }]], p.tensors));
    let err: unknown;
    await openModel(file).catch((e: unknown) => { err = e; });
    expect((err as Error).message).toMatch(new RegExp(`${file}: tokenizer.ggml.model "gpt2" is not supported`));
  });
});
