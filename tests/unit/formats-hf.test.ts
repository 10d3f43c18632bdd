/**
 * Hugging Face folders: config.json parsing (real configs of Mistral 7B v0.1, Gemma 2B,
 * Qwen2 0.5B and Llama 3.1 8B, as published on the hub), and seeded random checkpoints of each
 * architecture written as float32, bfloat16 and sharded folders, loaded back and run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { gemmaEmbedScale, hfConfigJson, parseHfConfig } from '../../src/core/formats/hf-config.ts';
import { hfTensorsFromModel } from '../../src/core/formats/hf-weights.ts';
import { roundToBf16 } from '../../src/core/formats/half.ts';
import { writeSafetensors } from '../../src/core/formats/safetensors-writer.ts';
import type { Architecture, ModelConfig } from '../../src/core/model/config.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { asFloat32 } from '../../src/core/model/quantized.ts';
import type { LoadedModel, ModelWeights } from '../../src/core/model/weights.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { nodeBackend, openModel } from '../../src/node/open-model.ts';
import { writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { maxAbsDiff, readStories } from '../helpers/stories.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-hf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ARCHS: Architecture[] = ['llama', 'mistral', 'gemma', 'qwen2'];
/** 40 tokens: past Mistral's tiny sliding window of 16. */
const ids = Array.from({ length: 40 }, (_, i) => (i * 7919 + 1) % 32000);

async function expectRejects(p: Promise<unknown> | (() => unknown), ...parts: (string | RegExp)[]): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(isLenspressError(err), `expected a LenspressError, got ${String(err)}`).toBe(true);
  for (const part of parts) expect((err as Error).message).toMatch(part);
}

/** Every weight array of a model, by name, in a fixed order. */
function flatWeights(w: ModelWeights): [string, Float32Array][] {
  const out: [string, Float32Array][] = [['W_E', w.W_E], ['ln_final_w', w.ln_final_w], ['W_U', w.W_U]];
  w.blocks.forEach((b, l) => {
    for (const [k, v] of Object.entries(b)) if (v) out.push([`blocks.${l}.${k}`, v as Float32Array]);
  });
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Index of the first element that differs (NaN equals NaN, -0 ≠ 0), or -1: far faster than toEqual on millions of floats. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const sameConfig = (a: ModelConfig, b: ModelConfig) => expect({ ...a, source_dtype: null }).toEqual({ ...b, source_dtype: null });

describe('config.json', () => {
  it('Mistral 7B v0.1', () => {
    const c = parseHfConfig({
      architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02,
      intermediate_size: 14336, max_position_embeddings: 32768, model_type: 'mistral', num_attention_heads: 32, num_hidden_layers: 32,
      num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 10000.0, sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16',
      transformers_version: '4.34.0.dev0', use_cache: true, vocab_size: 32000,
    });
    expect(c).toEqual({
      arch: 'mistral', d_model: 4096, d_mlp: 14336, n_layers: 32, n_heads: 32, n_kv_heads: 8, d_head: 128, d_vocab: 32000, n_ctx: 32768, norm_eps: 1e-5,
      rope_theta: 10000, rope_style: 'half', tied_embeddings: false, bos_token_id: 1, eos_token_id: 2, act_fn: 'silu', embed_scale: 1, attn_bias: false,
      sliding_window: 4096, rope_scaling: null, source_dtype: 'bfloat16',
    });
  });

  it('Gemma 2B: GELU-tanh whatever hidden_act says, tied by default, head_dim 256, √2048 rounded to bfloat16', () => {
    const c = parseHfConfig({
      architectures: ['GemmaForCausalLM'], attention_bias: false, bos_token_id: 2, eos_token_id: 1, head_dim: 256, hidden_act: 'gelu', hidden_size: 2048,
      intermediate_size: 16384, max_position_embeddings: 8192, model_type: 'gemma', num_attention_heads: 8, num_hidden_layers: 18,
      num_key_value_heads: 1, pad_token_id: 0, rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 10000.0, torch_dtype: 'bfloat16', vocab_size: 256000,
    });
    expect(c).toMatchObject({ arch: 'gemma', act_fn: 'gelu_tanh', tied_embeddings: true, d_head: 256, n_kv_heads: 1, embed_scale: 45.25, bos_token_id: 2, eos_token_id: 1, norm_eps: 1e-6 });
  });

  it('Gemma embed_scale = √hidden_size in the model dtype (numpy: bf16 via RNE of the float32 bits, float16 via astype)', () => {
    // √2048 = 45.254833995939045, √3072 = 55.42562584220407, √3584 = 59.86651818838306
    expect(gemmaEmbedScale(2048, 'bfloat16')).toBe(45.25);
    expect(gemmaEmbedScale(3072, 'bfloat16')).toBe(55.5);
    expect(gemmaEmbedScale(3584, 'bfloat16')).toBe(59.75);
    expect(gemmaEmbedScale(2048, 'float16')).toBe(45.25);
    expect(gemmaEmbedScale(3072, 'float16')).toBe(55.4375);
    expect(gemmaEmbedScale(3584, 'float16')).toBe(59.875);
    expect(gemmaEmbedScale(2048, 'float32')).toBe(45.25483322143555);
    expect(gemmaEmbedScale(3072, 'float32')).toBe(55.42562484741211);
    // without torch_dtype, the weights' dtype decides
    const base = { architectures: ['GemmaForCausalLM'], hidden_size: 3072, intermediate_size: 24576, num_hidden_layers: 28, num_attention_heads: 16, vocab_size: 256000 };
    expect(parseHfConfig(base, 'c.json', { weightsDtype: 'bfloat16' }).embed_scale).toBe(55.5);
    expect(parseHfConfig(base).embed_scale).toBe(55.42562484741211);
    expect(parseHfConfig({ ...base, hidden_activation: 'gelu_pytorch_tanh', torch_dtype: 'float16' }).embed_scale).toBe(55.4375);
  });

  it('Qwen2 0.5B: q/k/v biases, tied, sliding window off unless use_sliding_window', () => {
    const qwen = {
      architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu', hidden_size: 896,
      intermediate_size: 4864, max_position_embeddings: 131072, max_window_layers: 24, model_type: 'qwen2', num_attention_heads: 14, num_hidden_layers: 24,
      num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 131072, tie_word_embeddings: true, torch_dtype: 'bfloat16',
      use_cache: true, use_sliding_window: false, vocab_size: 151936,
    };
    expect(parseHfConfig(qwen)).toMatchObject({ arch: 'qwen2', attn_bias: true, tied_embeddings: true, d_head: 64, sliding_window: null, rope_theta: 1e6, bos_token_id: 151643 });
    expect(parseHfConfig({ ...qwen, use_sliding_window: true, max_window_layers: 0, sliding_window: 4096 }).sliding_window).toBe(4096);
    expect(parseHfConfig({ ...qwen, use_sliding_window: true, max_window_layers: 24 }).sliding_window).toBe(null);
    expect(() => parseHfConfig({ ...qwen, use_sliding_window: true, max_window_layers: 12 }, 'qwen/config.json')).toThrow(/qwen\/config.json: sliding-window attention on 12 of 24 layers/);
    expect(() => parseHfConfig({ ...qwen, bos_token_id: undefined }, 'q.json')).toThrow(/q.json: no bos_token_id/);
    expect(parseHfConfig({ ...qwen, bos_token_id: null }, 'q.json', { tokenIds: { bos: 7, eos: 8 } }).bos_token_id).toBe(7);
  });

  it('Llama 3.1 8B: llama3 RoPE scaling, several EOS ids (the first is used)', () => {
    const c = parseHfConfig({
      architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], hidden_act: 'silu',
      hidden_size: 4096, intermediate_size: 14336, max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama', num_attention_heads: 32,
      num_hidden_layers: 32, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
      rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      rope_theta: 500000.0, tie_word_embeddings: false, torch_dtype: 'bfloat16', vocab_size: 128256,
    });
    expect(c).toMatchObject({ eos_token_id: 128001, rope_theta: 500000, rope_scaling: { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
    expect(parseHfConfig({ ...c, architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 1, num_hidden_layers: 1, num_attention_heads: 1, vocab_size: 1, max_position_embeddings: 1, rope_scaling: { type: 'linear', factor: 4 } }).rope_scaling).toEqual({ type: 'linear', factor: 4 });
    // transformers ≥ 5: rope_parameters
    expect(parseHfConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 8, vocab_size: 9, rope_parameters: { rope_type: 'default', rope_theta: 123 } })).toMatchObject({ rope_theta: 123, rope_scaling: null });
  });

  it('refuses what it cannot compute, naming the file, the option and what is supported', () => {
    const llama = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 8, vocab_size: 9 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...llama, architectures: ['Gemma2ForCausalLM'] }, /architecture Gemma2ForCausalLM is not supported \(supported: LlamaForCausalLM, MistralForCausalLM, GemmaForCausalLM, Qwen2ForCausalLM\)/],
      [{ ...llama, architectures: undefined, model_type: 'mixtral' }, /model_type mixtral is not supported/],
      [{ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported for LlamaForCausalLM \(supported: none, linear, llama3\)/],
      [{ ...llama, hidden_act: 'gelu' }, /hidden_act "gelu" \(exact erf GELU\) is not supported/],
      [{ ...llama, attention_bias: true }, /attention_bias = true .* not supported/],
      [{ ...llama, mlp_bias: true }, /mlp_bias/],
      [{ ...llama, quantization_config: { quant_method: 'gptq' } }, /quantization_config/],
      [{ ...llama, partial_rotary_factor: 0.5 }, /partial_rotary_factor/],
      [{ ...llama, hidden_size: 65 }, /not divisible by num_attention_heads/],
      [{ ...llama, vocab_size: undefined }, /missing vocab_size/],
      [{ ...llama, torch_dtype: 'int8' }, /torch_dtype "int8"/],
    ];
    for (const [json, re] of cases) {
      expect(() => parseHfConfig(json, 'some/config.json'), re.source).toThrow(re);
      expect(() => parseHfConfig(json, 'some/config.json')).toThrow(/^some\/config.json: /);
    }
  });

  it.each(ARCHS)('%s: hfConfigJson → parseHfConfig gives the config back', (arch) => {
    const c = tinyConfig(arch, arch === 'qwen2' ? { sliding_window: 32 } : {});
    expect(parseHfConfig(hfConfigJson(c, 'float32'))).toEqual(c);
    expect(parseHfConfig(hfConfigJson(c, 'bfloat16'))).toEqual({ ...c, source_dtype: 'bfloat16' });
  });
});

describe.each(ARCHS)('%s: seeded checkpoint written as a Hugging Face folder', (arch) => {
  const model = randomModel(tinyConfig(arch), 1234);
  const flat = flatWeights(model.weights);
  const gemmaNorm = (name: string) => arch === 'gemma' && /ln/.test(name);
  /** What the folder must load to: bf16 rounds each stored value; Gemma stores γ = w − 1. */
  const expected = (dtype: 'float32' | 'bfloat16'): [string, Float32Array][] =>
    flat.map(([name, w]) => [name, dtype === 'float32' ? w : gemmaNorm(name) ? w.map((v) => 1 + roundToBf16(v - 1)) : w.map(roundToBf16)]);

  const variants = [
    { label: 'float32', opts: {}, dtype: 'float32' as const, format: 'Hugging Face safetensors (float32)' },
    { label: 'bfloat16', opts: { dtype: 'bfloat16' as const }, dtype: 'bfloat16' as const, format: 'Hugging Face safetensors (bfloat16)' },
    { label: '3 shards', opts: { shards: 3 }, dtype: 'float32' as const, format: 'Hugging Face safetensors (float32, 3 shards)' },
  ];
  it.each(variants)('$label: weights as written, config as in memory, ONNX logits = reference within 1e-4', async ({ label, opts, dtype, format }) => {
    const dir = path.join(tmp, `${arch}-${label.replace(' ', '-')}`);
    await writeHfCheckpoint(model, dir, opts);
    const m = await openModel(dir);
    expect(m.provenance.format).toBe(format);
    expect(m.model.config.source_dtype).toBe(dtype);
    sameConfig(m.model.config, model.config);
    const got = flatWeights(m.model.weights);
    expect(got.map(([n]) => n)).toEqual(flat.map(([n]) => n));
    expected(dtype).forEach(([name, w], i) => expect(firstDiff(got[i][1], w), name).toBe(-1));
    if (model.config.tied_embeddings) expect(m.model.weights.W_U).toBe(m.model.weights.W_E);
    const logits = (await m.hooked.run(ids, ['logits'])).get('logits')!.data;
    const ref = referenceForward(m.model.config, m.model.weights, ids).logits;
    expect(maxAbsDiff(logits, ref)).toBeLessThan(1e-4);
    if (dtype === 'float32') expect(maxAbsDiff(logits, referenceForward(model.config, model.weights, ids).logits)).toBeLessThan(1e-4);
    expect(m.tokenizer.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]); // the real Mistral tokenizer, copied in
  });
});

/** binary16 rounding, written out here so the test does not share the writer's code path. */
function roundToF16Local(v: number): number {
  const a = Math.abs(v);
  if (a === 0) return v;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  let q = a / ulp;
  const fl = Math.floor(q);
  q = q - fl > 0.5 || (q - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  return Math.sign(v) * q * ulp;
}

describe('other folders', () => {
  it('float16 weights load as their binary16 values', async () => {
    const model = randomModel(tinyConfig('mistral', { n_layers: 1 }), 3);
    const dir = path.join(tmp, 'mistral-f16');
    await writeHfCheckpoint(model, dir, { dtype: 'float16' });
    const m = await openModel(dir);
    expect(m.model.config.source_dtype).toBe('float16');
    expect(firstDiff(asFloat32(m.model.weights.blocks[0].W_Q), asFloat32(model.weights.blocks[0].W_Q).map(roundToF16Local))).toBe(-1);
  });

  it('stories260K (interleaved RoPE) converted to a Hugging Face folder gives the .bin logits (q/k rows permuted to rotate_half)', async () => {
    const bin = parseLlama2cCheckpoint(readStories('stories260K.bin'));
    const dir = path.join(tmp, 'stories-hf');
    await writeHfCheckpoint(bin, dir, { tokenizer: false });
    writeFileSync(path.join(dir, 'tokenizer.model'), readStories('tok512.model'));
    const m = await openModel(dir);
    expect(m.model.config.rope_style).toBe('half');
    expect(firstDiff(asFloat32(m.model.weights.blocks[0].W_Q), asFloat32(bin.weights.blocks[0].W_Q))).toBeGreaterThanOrEqual(0);
    const storyIds = [1, ...Array.from({ length: 63 }, (_, i) => (i * 97 + 5) % 512)];
    const a = (await m.hooked.run(storyIds, ['logits'])).get('logits')!.data;
    const b = (await new HookedModel(bin, nodeBackend()).run(storyIds, ['logits'])).get('logits')!.data;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(m.tokenizer.vocabSize).toBe(512);
  });
});

describe('bad folders: errors name the file and the tensor', () => {
  const model: LoadedModel = randomModel(tinyConfig('llama', { n_layers: 2 }), 11);
  const fresh = async (name: string, opts = {}) => {
    const dir = path.join(tmp, name);
    await writeHfCheckpoint(model, dir, opts);
    return dir;
  };
  const editConfig = (dir: string, patch: Record<string, unknown>) => {
    const p = path.join(dir, 'config.json');
    writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), ...patch }));
  };

  it('a shape that contradicts config.json', async () => {
    const dir = await fresh('bad-shape');
    editConfig(dir, { intermediate_size: 128 });
    await expectRejects(openModel(dir), `${dir}/model.safetensors`, 'tensor model.layers.0.mlp.gate_proj.weight', /shape \[160, 64\], but .*config.json implies \[128, 64\] \(intermediate_size 128, hidden_size 64\)/);
  });

  it('a dtype that config.json contradicts, or that is not a float', async () => {
    const dir = await fresh('bad-dtype', { dtype: 'bfloat16' });
    editConfig(dir, { torch_dtype: 'float16' });
    await expectRejects(openModel(dir), `${dir}/model.safetensors`, 'tensor model.embed_tokens.weight is BF16', /torch_dtype float16/);
    const dir2 = await fresh('int-dtype');
    const p = path.join(dir2, 'model.safetensors');
    const bytes = readFileSync(p);
    const at = bytes.indexOf('"model.norm.weight":{"dtype":"F32"');
    bytes.write('I', at + '"model.norm.weight":{"dtype":"'.length); // F32 → I32, same size
    writeFileSync(p, bytes);
    await expectRejects(openModel(dir2), p, 'tensor model.norm.weight', /dtype I32/);
  });

  it('a missing tensor, and a tensor the model would silently ignore', async () => {
    const dir = await fresh('missing');
    const tensors = hfTensorsFromModel(model, 'float32');
    writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors.filter((t) => t.name !== 'model.layers.1.self_attn.k_proj.weight')));
    await expectRejects(openModel(dir), `${dir}/model.safetensors`, 'tensor model.layers.1.self_attn.k_proj.weight is missing');
    const extra = [...tensors, { name: 'model.layers.0.self_attn.o_proj.bias', shape: [64], data: new Float32Array(64), dtype: 'F32' as const }];
    writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(extra));
    await expectRejects(openModel(dir), `${dir}/model.safetensors`, 'tensor model.layers.0.self_attn.o_proj.bias is not part of a llama model');
  });

  it('an index naming a missing shard, or a tensor not in its shard', async () => {
    const dir = await fresh('sharded', { shards: 2 });
    rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    await expectRejects(openModel(dir), `${dir}/model.safetensors.index.json names shard model-00002-of-00002.safetensors`, /holding e\.g\. tensor model\./, /does not exist/);
    const dir2 = await fresh('sharded2', { shards: 2 });
    const ip = path.join(dir2, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(ip, 'utf8'));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00002.safetensors';
    writeFileSync(ip, JSON.stringify(index));
    await expectRejects(openModel(dir2), ip, 'tensor model.norm.weight is mapped to model-00001-of-00002.safetensors');
  });

  it('a truncated shard, an unknown architecture, no weights at all', async () => {
    const dir = await fresh('truncated');
    const p = path.join(dir, 'model.safetensors');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 100));
    await expectRejects(openModel(dir), p, 'tensor lm_head.weight', /truncated/);
    const dir2 = await fresh('unknown-arch');
    editConfig(dir2, { architectures: ['MixtralForCausalLM'] });
    await expectRejects(openModel(dir2), `${dir2}/config.json`, /architecture MixtralForCausalLM is not supported \(supported: LlamaForCausalLM/);
    rmSync(path.join(dir2, 'model.safetensors'));
    await expectRejects(openModel(dir2), dir2, /no model.safetensors or model.safetensors.index.json/);
  });
});
