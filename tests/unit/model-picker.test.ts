/**
 * The model picker's pure logic: the site's model list (zod), the device/release fit decision
 * (sizes from the hub listing, float32 memory estimate, WebGPU buffer limits, wasm's 4 GiB),
 * and recognising a reader's local files (llama2.c header against the real checkpoint parser).
 */
import { describe, expect, it } from 'vitest';
import modelsJson from '../../src/site/models.json';
import { parsePickerModels, pickerConfig } from '../../src/site/model-list.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { parameterCount } from '../../src/core/model/config.ts';
import { decideFit, describeFit, gradientFit, largestTensorBytes, PAGE_MEMORY_BYTES, pageMemoryBytes, WASM_MEMORY_BYTES } from '../../src/core/model/device-fit.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { tinyConfig } from '../../src/core/model/random.ts';
import { llama2cHeaderConfig, planLocal } from '../../src/browser/local-model.ts';
import { readStories } from '../helpers/stories.ts';

const list = parsePickerModels(modelsJson);
const entry = (name: string) => list.models.find((m) => m.name.startsWith(name))!;
const GPU = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 }; // 1 GiB, 128 MiB: Chrome's common defaults
const limits = { wasmBytes: WASM_MEMORY_BYTES, webgpu: GPU };

describe('the site model list (src/site/models.json)', () => {
  it('parses, and names the three models with their hub ids', () => {
    expect(list.models.map((m) => m.hub)).toEqual(['HuggingFaceTB/SmolLM2-135M', 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', 'TheBloke/Mistral-7B-v0.1-GGUF:mistral-7b-v0.1.Q4_0.gguf']);
    expect(list.note).toMatch(/huggingface\.co/);
  });

  it('each entry\'s shape gives its published parameter count (134.5M, 1.1B, 7.24B)', () => {
    // Published counts: SmolLM2-135M 134,515,008; TinyLlama 1,100,048,384; Mistral 7B 7,241,732,096.
    for (const m of list.models) expect(parameterCount(pickerConfig(m)), m.name).toBe(m.parameters);
  });

  it('refuses a bad entry with the field and what was expected', () => {
    const good = list.models[0];
    const bad = (patch: Record<string, unknown>) => () => parsePickerModels({ note: '', models: [{ ...good, ...patch }] }, 'models.json');
    expect(bad({ hub: 'not a hub id' })).toThrow(/models\.json: models\.0\.hub: expected a hub id/);
    expect(bad({ hub: 'org/name:model.gguf' })).toThrow(/format "gguf" goes with a hub id naming a \.gguf file/);
    expect(bad({ format: 'gguf' })).toThrow(/format "gguf" goes with a hub id naming a \.gguf file/);
    expect(bad({ bytes: -1 })).toThrow(/models\.0\.bytes/);
    expect(bad({ config: { ...good.config, d_model: undefined } })).toThrow(/models\.0\.config\.d_model/);
    expect(bad({ extra: 1 })).toThrow(/Unrecognized key/);
  });
});

describe('decideFit', () => {
  it('SmolLM2-135M fits: both backends can hold it', () => {
    const m = entry('SmolLM2');
    const d = decideFit({ files: [{ name: 'model.safetensors', bytes: m.bytes }], config: pickerConfig(m), limits });
    // Largest weight: the tied embedding, 49152 × 576 float32 = 113,246,208 bytes < 128 MiB.
    expect(d.largestTensorBytes).toBe(113_246_208);
    expect(largestTensorBytes(pickerConfig(m))).toBe(4 * 49152 * 576);
    expect(d).toMatchObject({ fits: true, wasm: true, webgpu: true, problems: [] });
    expect(d.estimate!.totalBytes).toBe(estimateMemory(pickerConfig(m), 64).totalBytes);
    expect(describeFit(m.hub, d, 'hub')).toMatch(/^HuggingFaceTB\/SmolLM2-135M: 258\.4 MB to download from huggingface\.co, about 1\.\d GB of memory \(estimate, 134,515,008 parameters\)\.$/);
  });

  it('TinyLlama is refused on this GPU: its 4.4 GB of float32 weights exceed wasm and this GPU\'s buffers; its 2.2 GB file is no limit (read tensor by tensor)', () => {
    const m = entry('TinyLlama');
    const d = decideFit({ files: [{ name: 'model.safetensors', bytes: 2_200_119_864 }, { name: 'tokenizer.json', bytes: 1_842_767 }], config: pickerConfig(m), limits });
    expect(d.fits).toBe(false);
    expect(d.problems).toHaveLength(1);
    expect(d.problems.join(' ')).not.toMatch(/ONNX graph|one buffer/);
    // 4.4 GB of weights exceed wasm's 4 GiB; the largest weight (32000 × 2048 float32 = 262,144,000 bytes, which formatBytes shows as 250.0 MB) exceeds the 128 MiB binding limit
    expect(d.problems[0]).toMatch(/more than WebAssembly's 4\.0 GB, and WebGPU: its largest weight \(250\.0 MB\) exceeds this GPU's buffer limit/);
    expect(d).toMatchObject({ wasm: false, webgpu: false });
    expect(describeFit(m.hub, d, 'hub')).toMatch(/cannot run here: .*Nothing was downloaded; choose a smaller model\.$/);
  });

  it('Mistral 7B Q4_0: too big for wasm\'s 4 GB and for 128 MiB bindings; fits a GPU whose adapter offers 1 GiB bindings — the 4.1 GB file is no limit', () => {
    const m = entry('Mistral');
    const d = decideFit({ files: [{ name: 'mistral-7b-v0.1.Q4_0.gguf', bytes: m.bytes }], config: pickerConfig(m), limits });
    expect(d.fits).toBe(false);
    expect(d.wasm).toBe(false);
    expect(d.webgpu).toBe(false); // the embedding, 32000 × 4096 × 4 = 524,288,000 bytes > 128 MiB binding limit
    expect(d.largestTensorBytes).toBe(4 * 32000 * 4096);
    expect(d.problems).toHaveLength(1); // the memory only: no file or graph limit (tensor-by-tensor reads, external data)
    expect(d.problems[0]).toMatch(/more than WebAssembly's 4\.0 GB, and WebGPU: its largest weight \(500\.0 MB\) exceeds this GPU's buffer limit \(128\.0 MB\)/);
    // A discrete GPU's adapter (e.g. maxBufferSize 4 GiB, maxStorageBufferBindingSize 1 GiB) holds every tensor.
    const big = decideFit({ files: [{ name: 'mistral-7b-v0.1.Q4_0.gguf', bytes: m.bytes }], config: pickerConfig(m), limits: { wasmBytes: WASM_MEMORY_BYTES, webgpu: { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 30 } } });
    expect(big).toMatchObject({ fits: true, wasm: false, webgpu: true, problems: [] });
  });

  it('a backend suffices: too big for a (small) wasm limit but within the GPU\'s buffers fits; without WebGPU it does not', () => {
    const c = tinyConfig('llama'); // 32000 × 64 embedding: 8,192,000 bytes
    const total = estimateMemory(c, 64);
    const small = { wasmBytes: total.sessionBytes + total.activationBytes - 1 };
    expect(decideFit({ files: [], config: c, limits: { ...small, webgpu: GPU } })).toMatchObject({ fits: true, wasm: false, webgpu: true });
    const none = decideFit({ files: [], config: c, limits: small });
    expect(none).toMatchObject({ fits: false, wasm: false, webgpu: false });
    expect(none.problems[0]).toMatch(/this browser offers no WebGPU/);
    const tinyGpu = decideFit({ files: [], config: c, limits: { ...small, webgpu: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 8_191_999 } } });
    expect(tinyGpu.problems[0]).toMatch(/largest weight \(7\.8 MB\) exceeds this GPU's buffer limit/);
  });

  it('the page\'s memory: a bfloat16 7B (54 GB) is refused even on a GPU whose buffers hold every tensor; Mistral 7B Q4_0 (9.7 GB) is allowed under the 16 GiB ceiling, not on a device reporting 4 GB', () => {
    expect(pageMemoryBytes(undefined)).toBe(PAGE_MEMORY_BYTES);
    expect(pageMemoryBytes(8)).toBe(PAGE_MEMORY_BYTES); // Chrome's cap: 8 means "8 GB or more"
    expect(pageMemoryBytes(4)).toBe(4 * 2 ** 30);
    const bigGpu = { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31 };
    const m = entry('Mistral');
    const bf16 = decideFit({ files: [], config: { ...pickerConfig(m), source_dtype: 'bfloat16' }, limits: { wasmBytes: WASM_MEMORY_BYTES, webgpu: bigGpu, memoryBytes: pageMemoryBytes(8) } });
    expect(bf16).toMatchObject({ fits: false, webgpu: true });
    expect(bf16.problems).toEqual([expect.stringMatching(/^it needs about 54\.0 GB of memory \(weights in JavaScript, ONNX Runtime's copy, activations\), more than the 16\.0 GB a page may use here \(browsers report at most 8 GB of device memory; Lenspress allows a page 16 GB\); the command line runs it/)]);
    const q4 = decideFit({ files: [], config: pickerConfig(m), limits: { wasmBytes: WASM_MEMORY_BYTES, webgpu: bigGpu, memoryBytes: pageMemoryBytes(8) } });
    expect(q4).toMatchObject({ fits: true, webgpu: true });
    expect(q4.estimate!.totalBytes).toBeLessThan(11e9); // 9.7 GiB
    const small = decideFit({ files: [], config: pickerConfig(m), limits: { wasmBytes: WASM_MEMORY_BYTES, webgpu: bigGpu, memoryBytes: pageMemoryBytes(4) } });
    expect(small.problems[0]).toMatch(/more than the 4\.0 GB this device reports/);
  });

  it('the gradient figure (every weight as float32): refused for Mistral 7B in a page, for TinyLlama on wasm only; SmolLM2 fits', () => {
    const page = { wasmBytes: WASM_MEMORY_BYTES, memoryBytes: pageMemoryBytes(8) };
    expect(gradientFit(pickerConfig(entry('Mistral')), page, 'webgpu')).toMatch(/^the gradient figure holds every weight as float32 \(its backward pass cannot use quantised weights\): about 54\.0 GB for this model's 7,241,732,096 parameters, more than the 16\.0 GB a page may use here; the command line computes it/);
    expect(gradientFit(pickerConfig(entry('TinyLlama')), page, 'webgpu')).toBeUndefined();
    expect(gradientFit(pickerConfig(entry('TinyLlama')), page, 'wasm')).toMatch(/exceed WebAssembly's 4\.0 GB: choose WebGPU/);
    expect(gradientFit(pickerConfig(entry('SmolLM2')), page, 'wasm')).toBeUndefined();
  });

  it('without a shape only files read whole (llama2.c) over 2 GiB are refused; a GGUF of any size is read tensor by tensor', () => {
    expect(decideFit({ files: [{ name: 'x.gguf', bytes: 5e8 }], limits })).toEqual({ fits: true, downloadBytes: 5e8, problems: [] });
    expect(decideFit({ files: [{ name: 'x.gguf', bytes: 3e9 }], limits }).fits).toBe(true);
    const whole = decideFit({ files: [{ name: 'x.bin', bytes: 3e9, readWhole: true }], limits });
    expect(whole.fits).toBe(false);
    expect(whole.problems[0]).toMatch(/^x\.bin is 3\.0 GB: a file of this format is read into one buffer of at most 2 GiB \(2\.1 GB\); convert the model to GGUF or safetensors/);
  });
});

describe('local files', () => {
  const file = (name: string, bytes: Uint8Array | string = 'x') => new File([bytes as BlobPart], name);

  it('the llama2.c header gives the same config as the checkpoint parser (stories260K)', () => {
    const bin = readStories('stories260K.bin');
    const full = parseLlama2cCheckpoint(bin).config;
    const head = llama2cHeaderConfig(bin.subarray(0, 28))!;
    for (const k of ['d_model', 'd_mlp', 'n_layers', 'n_heads', 'n_kv_heads', 'd_head', 'd_vocab', 'n_ctx', 'tied_embeddings'] as const) expect(head[k], k).toBe(full[k]);
    expect(parameterCount(head)).toBe(parameterCount(full));
    expect(llama2cHeaderConfig(new Uint8Array(28))).toBeUndefined();
  });

  it('recognises a .gguf, a .bin with its tokenizer, a Hugging Face folder; says what is missing', () => {
    expect(planLocal([file('m.gguf')])).toMatchObject({ format: 'gguf', name: 'm.gguf' });
    const l2c = planLocal([file('tok512.model'), file('stories260K.bin')]);
    expect(l2c.format).toBe('llama2c');
    expect(l2c.files.map((f) => [f.manifest.name, f.manifest.role])).toEqual([['stories260K.bin', 'weights'], ['tok512.model', 'tokenizer']]);
    const hf = planLocal([file('config.json'), file('tokenizer.json'), file('model-00002-of-00002.safetensors'), file('model-00001-of-00002.safetensors'), file('model.safetensors.index.json'), file('README.md')]);
    expect(hf.format).toBe('hf');
    expect(hf.files.find((f) => f.manifest.role === 'weights')!.manifest.name).toBe('model-00001-of-00002.safetensors');
    expect(hf.files.map((f) => f.manifest.name)).not.toContain('README.md');
    expect(() => planLocal([file('stories260K.bin')])).toThrow(/choose its tokenizer/);
    expect(() => planLocal([file('config.json')])).toThrow(/no model\.safetensors/);
    expect(() => planLocal([file('notes.txt')])).toThrow(/cannot tell a model from notes\.txt/);
  });
});
