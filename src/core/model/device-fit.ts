/**
 * Does a model fit this device and this release, before anything downloads? Decided from
 * the file sizes (the hub's listing) and, when the shape is known (config.json, a llama2.c
 * header, the site's model list), the memory estimate of ./memory.ts. Limits:
 * - the page: it reads each file into one buffer (MAX_FILE_BYTES, 2 GiB; Node reads files
 *   of any size tensor by tensor). Graphs over protobuf's 2 GiB are no limit: their weights
 *   go to ONNX external data (GraphBuilder.toModel);
 * - WebAssembly: wasm32 addresses 4 GiB, which must hold the session's weights and the
 *   activations;
 * - WebGPU: every tensor is one GPU buffer, so the largest weight (float32) must fit the
 *   adapter's maxBufferSize and maxStorageBufferBindingSize.
 * A model fits when the release allows it and at least one backend can hold it.
 */
import { MAX_FILE_BYTES } from '../hub/hub-client.ts';
import type { ModelConfig } from './config.ts';
import { estimateMemory, formatBytes, type MemoryEstimate } from './memory.ts';

export interface DeviceLimits {
  /** The WebGPU adapter's limits; absent when the browser offers no adapter. */
  webgpu?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** What one WebAssembly instance can address (4 GiB for wasm32). */
  wasmBytes: number;
}

export const WASM_MEMORY_BYTES = 4 * 2 ** 30;

export interface FitInput {
  files: readonly { name: string; bytes: number }[];
  config?: ModelConfig;
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

export function decideFit({ files, config, tokens = 64, limits }: FitInput): FitDecision {
  const downloadBytes = files.reduce((s, f) => s + f.bytes, 0);
  const problems: string[] = [];
  const big = files.filter((f) => f.bytes > MAX_FILE_BYTES);
  if (big.length > 0) problems.push(`${big.map((f) => `${f.name} is ${(f.bytes / 1e9).toFixed(1)} GB`).join(', ')}: the page reads each file into one buffer of at most 2 GiB (2.1 GB), so it cannot load this model (the command line can: npx lenspress … --model <hub id>).`);
  if (!config) return { fits: problems.length === 0, downloadBytes, problems };
  const estimate = estimateMemory(config, tokens);
  const largest = largestTensorBytes(config);
  const wasm = estimate.sessionBytes + estimate.activationBytes <= limits.wasmBytes;
  const gpu = limits.webgpu;
  const webgpu = gpu ? largest <= gpu.maxBufferSize && largest <= gpu.maxStorageBufferBindingSize : false;
  if (!wasm && !webgpu) {
    const gpuWhy = gpu
      ? `WebGPU: its largest weight (${formatBytes(largest)}) exceeds this GPU's buffer limit (${formatBytes(Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize))})`
      : 'this browser offers no WebGPU';
    problems.push(`it needs about ${formatBytes(estimate.totalBytes)} of memory: more than WebAssembly's ${formatBytes(limits.wasmBytes)}, and ${gpuWhy}.`);
  }
  return { fits: problems.length === 0, downloadBytes, estimate, largestTensorBytes: largest, wasm, webgpu, problems };
}

/** One line for the run panel: size, estimate, and the verdict. */
export function describeFit(name: string, d: FitDecision, from: 'hub' | 'disk'): string {
  const size = from === 'hub' ? `${formatBytes(d.downloadBytes)} to download from huggingface.co` : `${formatBytes(d.downloadBytes)} to read from your disk`;
  const mem = d.estimate ? `about ${formatBytes(d.estimate.totalBytes)} of memory (estimate, ${d.estimate.parameters.toLocaleString('en-US')} parameters)` : 'memory unknown until the file is read';
  if (d.fits) return `${name}: ${size}, ${mem}.`;
  return `${name} cannot run here: ${d.problems.join(' ')} (${size}, ${mem}.) Nothing was downloaded; choose a smaller model.`;
}
