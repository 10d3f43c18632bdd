/**
 * What the core needs from ONNX Runtime. onnxruntime-node and onnxruntime-web share this
 * API (both re-export onnxruntime-common), so the platform adapter passes its module in and
 * the core never imports a runtime itself — the same code runs in Node, a page and a Worker.
 */
import type { InferenceSession, TensorConstructor } from 'onnxruntime-common';

export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: TensorConstructor;
}

export interface Backend {
  ort: OrtModule;
  /** In preference order, e.g. ['webgpu'] or ['wasm'] or ['cpu']. */
  executionProviders: string[];
  /** What the reader is told: "onnxruntime-node (cpu)", "WebGPU", "WebAssembly". */
  label: string;
}

export type { InferenceSession };

/**
 * Session options for every graph. Severity 3 (errors only): ONNX Runtime Web warns at
 * every WebGPU session that it placed shape ops on the CPU, which is by design here and
 * would otherwise show as console errors on every Run.
 */
export function sessionOptions(backend: Backend): InferenceSession.SessionOptions {
  return { executionProviders: backend.executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}
