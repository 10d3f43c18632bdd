/**
 * Q8_0 weights on WebGPU. ONNX Runtime Web 1.30's WebGPU (JSEP) MatMulNBits kernel
 * (onnxruntime contrib_ops/js/quantization/matmul_nbits.h) refuses 8-bit weights when the
 * session is created ("Only 2b and 4b quantization is supported for MatMulNBits op"; checked
 * in tests/e2e/quantized-page.spec.ts), while its wasm (MLAS) kernel takes them. So before building a WebGPU graph for a model with Q8_0
 * projections, the Worker either dequantises them to float32 (exact: x = q·d, see
 * model/quantized.ts) — when the float32 model still fits WebAssembly's memory, which holds
 * the graph while ONNX Runtime creates the session — or runs on WebAssembly from the start,
 * saying why. Either way no WebGPU attempt is made that is known to fail. Q4_0 stays
 * quantised on WebGPU.
 */
import type { ModelConfig } from '../model/config.ts';
import { WASM_MEMORY_BYTES } from '../model/device-fit.ts';
import { estimateMemory, formatBytes } from '../model/memory.ts';
import { dequantize, isQuantized, type Matrix, PROJECTIONS } from '../model/quantized.ts';
import type { LoadedModel } from '../model/weights.ts';

export type WebGpuWeightsPlan = { run: 'webgpu'; dequantize: boolean } | { run: 'wasm'; reason: string };

/** What the WebGPU backend label gains when Q8_0 projections were dequantised for it. */
export const DEQUANTIZED_NOTE = 'Q8_0 projections dequantised to float32 (its MatMulNBits takes 2- and 4-bit weights only)';

const isQ8 = (m: Matrix) => isQuantized(m) && m.type === 'q8_0';

export function hasQ8Projections(model: LoadedModel): boolean {
  return model.weights.blocks.some((b) => PROJECTIONS.some((k) => isQ8(b[k])));
}

/** `q8`: whether any projection is Q8_0 (default: the checkpoint's stored type says so). */
export function planWebGpuWeights(config: ModelConfig, q8 = config.source_dtype === 'q8_0', wasmBytes = WASM_MEMORY_BYTES, tokens = 64): WebGpuWeightsPlan {
  if (!q8) return { run: 'webgpu', dequantize: false };
  const est = estimateMemory({ ...config, source_dtype: 'float32' }, tokens);
  const need = est.sessionBytes + est.activationBytes;
  if (need <= wasmBytes) return { run: 'webgpu', dequantize: true };
  return {
    run: 'wasm',
    reason: `Q8_0 weights: ONNX Runtime Web's WebGPU MatMulNBits takes 2- and 4-bit weights only, and as float32 this model needs about ${formatBytes(need)}, more than WebAssembly's ${formatBytes(wasmBytes)} that hold the graph while the session is created`,
  };
}

/** The model with its Q8_0 projections as float32; Q4_0 ones stay quantised (WebGPU runs them as MatMulNBits). */
export function dequantizeQ8(model: LoadedModel): LoadedModel {
  const blocks = model.weights.blocks.map((b) => {
    const out = { ...b };
    for (const k of PROJECTIONS) {
      const m = b[k];
      if (isQuantized(m) && m.type === 'q8_0') out[k] = dequantize(m);
    }
    return out;
  });
  return { ...model, weights: { ...model.weights, blocks } };
}
