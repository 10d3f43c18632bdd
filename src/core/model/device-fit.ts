/**
 * Does a model fit this device and this release, before anything downloads? Decided from
 * the file sizes (the hub's listing) and, when the shape is known (config.json, a llama2.c
 * header, the site's model list), the memory estimate of ./memory.ts. Limits:
 * - files read whole (a llama2.c checkpoint, tokenizers, JSON) stop at one buffer's 2 GiB
 *   (MAX_FILE_BYTES); GGUF and safetensors files of any size are read tensor by tensor, in
 *   Node and in the page (a picked File, or a hub download streamed into Cache Storage in
 *   parts). Graphs over protobuf's 2 GiB are no limit: their weights go to ONNX external data
 *   (GraphBuilder.toModel), which ONNX Runtime Web's WebGPU backend uploads straight to GPU
 *   buffers, not through WebAssembly memory;
 * - WebAssembly: wasm32 addresses 4 GiB, which must hold the session's weights and the
 *   activations;
 * - WebGPU: every tensor is one GPU buffer, so the largest weight (float32) must fit the
 *   adapter's maxBufferSize and maxStorageBufferBindingSize.
 * - the machine: the page holds the weights in JavaScript and hands ONNX Runtime its own copy
 *   (uploaded to the GPU on WebGPU), so the whole estimate must fit the memory a page can
 *   use (DeviceLimits.memoryBytes). Browsers do not say how much that is: Chrome's
 *   navigator.deviceMemory rounds down and stops at 8 GB, so a device reporting less is held
 *   to what it reports, and any other to PAGE_MEMORY_BYTES (16 GiB), a ceiling chosen so that
 *   Mistral 7B Q4_0 (about 9.7 GB) is allowed and a bfloat16 7B (about 54 GB) is not.
 * A model fits when the release allows it, the memory suffices, and at least one backend can hold it.
 */
import { MAX_FILE_BYTES } from '../hub/hub-client.ts';
import { type ModelConfig, parameterCount } from './config.ts';
import { estimateMemory, formatBytes, type MemoryEstimate, type ProjectionBytes } from './memory.ts';

export interface DeviceLimits {
  /** The WebGPU adapter's limits; absent when the browser offers no adapter. */
  webgpu?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** What one WebAssembly instance can address (4 GiB for wasm32). */
  wasmBytes: number;
  /** Memory the page may use in all (see the module header); absent: no limit (Node's tests of the backends alone). */
  memoryBytes?: number;
}

export const WASM_MEMORY_BYTES = 4 * 2 ** 30;
export const PAGE_MEMORY_BYTES = 16 * 2 ** 30;

/** The page's memory limit from navigator.deviceMemory (GB, rounded down, at most 8 in Chrome; undefined where unsupported). */
export function pageMemoryBytes(deviceMemoryGb: number | undefined): number {
  return deviceMemoryGb !== undefined && deviceMemoryGb > 0 && deviceMemoryGb < 8 ? deviceMemoryGb * 2 ** 30 : PAGE_MEMORY_BYTES;
}

export interface FitInput {
  /** `readWhole`: the file is read into one buffer (llama2.c), not tensor by tensor. */
  files: readonly { name: string; bytes: number; readWhole?: boolean }[];
  config?: ModelConfig;
  /** The projections as the file holds them (a GGUF header's tensor types), for a closer estimate than config.source_dtype. */
  projections?: ProjectionBytes;
  /** Prompt length the activation estimate assumes. */
  tokens?: number;
  limits: DeviceLimits;
}

export interface FitDecision {
  fits: boolean;
  downloadBytes: number;
  estimate?: MemoryEstimate;
  largestTensorBytes?: number;
  /** Whether each backend could hold the model (undefined: unknown without the shape). */
  wasm?: boolean;
  webgpu?: boolean;
  /** Why it does not fit (empty when it fits), each a sentence a reader can act on. */
  problems: string[];
}

/** The largest float32 weight matrix: the embedding or unembedding, an MLP or attention projection. */
export function largestTensorBytes(c: ModelConfig): number {
  return 4 * Math.max(c.d_vocab * c.d_model, c.d_mlp * c.d_model, c.n_heads * c.d_head * c.d_model);
}

export function decideFit({ files, config, projections, tokens = 64, limits }: FitInput): FitDecision {
  const downloadBytes = files.reduce((s, f) => s + f.bytes, 0);
  const problems: string[] = [];
  const big = files.filter((f) => f.readWhole && f.bytes > MAX_FILE_BYTES);
  if (big.length > 0) problems.push(`${big.map((f) => `${f.name} is ${(f.bytes / 1e9).toFixed(1)} GB`).join(', ')}: a file of this format is read into one buffer of at most 2 GiB (2.1 GB); convert the model to GGUF or safetensors, which are read tensor by tensor.`);
  if (!config) return { fits: problems.length === 0, downloadBytes, problems };
  const estimate = estimateMemory(config, tokens, undefined, projections);
  const largest = largestTensorBytes(config);
  const wasm = estimate.sessionBytes + estimate.activationBytes <= limits.wasmBytes;
  const gpu = limits.webgpu;
  const webgpu = gpu ? largest <= gpu.maxBufferSize && largest <= gpu.maxStorageBufferBindingSize : false;
  if (limits.memoryBytes !== undefined && estimate.totalBytes > limits.memoryBytes) {
    const why = limits.memoryBytes < PAGE_MEMORY_BYTES ? 'this device reports' : 'a page may use here (browsers report at most 8 GB of device memory; Lenspress allows a page 16 GB)';
    problems.push(`it needs about ${formatBytes(estimate.totalBytes)} of memory (weights in JavaScript, ONNX Runtime's copy, activations), more than the ${formatBytes(limits.memoryBytes)} ${why}; the command line runs it on a machine with enough memory.`);
  } else if (!wasm && !webgpu) {
    const gpuWhy = gpu
      ? `WebGPU: its largest weight (${formatBytes(largest)}) exceeds this GPU's buffer limit (${formatBytes(Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize))})`
      : 'this browser offers no WebGPU';
    problems.push(`it needs about ${formatBytes(estimate.totalBytes)} of memory: more than WebAssembly's ${formatBytes(limits.wasmBytes)}, and ${gpuWhy}.`);
  }
  return { fits: problems.length === 0, downloadBytes, estimate, largestTensorBytes: largest, wasm, webgpu, problems };
}

/**
 * The gradient figure needs more than the forward pass: its graph multiplies by every weight
 * matrix untransposed in the backward pass, which MatMulNBits cannot, so it holds every
 * weight as float32 — quantised ones dequantised into new arrays, then copied into the
 * session: about 8 bytes per parameter at the peak. Why it cannot run here, or undefined.
 */
export function gradientFit(c: ModelConfig, limits: DeviceLimits, backend: 'wasm' | 'webgpu'): string | undefined {
  const params = parameterCount(c), need = 8 * params;
  const what = `the gradient figure holds every weight as float32 (its backward pass cannot use quantised weights): about ${formatBytes(need)} for this model's ${params.toLocaleString('en-US')} parameters`;
  if (limits.memoryBytes !== undefined && need > limits.memoryBytes) return `${what}, more than the ${formatBytes(limits.memoryBytes)} a page may use here; the command line computes it on a machine with enough memory (npx lenspress grad --model …)`;
  if (backend === 'wasm' && 4 * params > limits.wasmBytes) return `${what}, and its ${formatBytes(4 * params)} of float32 weights exceed WebAssembly's ${formatBytes(limits.wasmBytes)}: choose WebGPU, or use the command line (npx lenspress grad --model …)`;
  return undefined;
}

/** One line for the run panel: size, estimate, and the verdict. */
export function describeFit(name: string, d: FitDecision, from: 'hub' | 'disk'): string {
  const size = from === 'hub' ? `${formatBytes(d.downloadBytes)} to download from huggingface.co` : `${formatBytes(d.downloadBytes)} to read from your disk`;
  const mem = d.estimate ? `about ${formatBytes(d.estimate.totalBytes)} of memory (estimate, ${d.estimate.parameters.toLocaleString('en-US')} parameters)` : 'memory unknown until the file is read';
  if (d.fits) return `${name}: ${size}, ${mem}.`;
  return `${name} cannot run here: ${d.problems.join(' ')} (${size}, ${mem}.) Nothing was downloaded; choose a smaller model.`;
}
