/**
 * What the core needs from ONNX Runtime. onnxruntime-node and onnxruntime-web share this
 * API (both re-export onnxruntime-common), so the platform adapter passes its module in and
 * the core never imports a runtime itself — the same code runs in Node, a page and a Worker.
 */
import type { InferenceSession, TensorConstructor } from 'onnxruntime-common';
import type { OnnxModel } from '../onnx/graph-builder.ts';

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
  /** Threads per session (intra-op; inter-op is then 1); absent: the runtime's default. The benchmarks pin it. */
  threads?: number;
}

export type { InferenceSession };

/**
 * Session options for every graph. Severity 3 (errors only): ONNX Runtime Web warns at
 * every WebGPU session that it placed shape ops on the CPU, which is by design here and
 * would otherwise show as console errors on every Run.
 */
export function sessionOptions(backend: Backend, threads = backend.threads): InferenceSession.SessionOptions {
  // Keys set to undefined throw in onnxruntime-node: the thread keys are there only when pinned.
  const pinned = threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  return { executionProviders: backend.executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3, ...pinned };
}

/**
 * A session for `model`, its external data files included. Both runtimes take the files from
 * memory through the `externalData` option ([{path, data}], onnxruntime-common's
 * OnnxModelOptions): onnxruntime-web mounts them, and onnxruntime-node 1.30's binding hands
 * them to ONNX Runtime as in-memory external files (checked in tests/unit/quantized.test.ts),
 * so nothing is written to disk.
 */
export function createSession(backend: Backend, model: OnnxModel, options: InferenceSession.SessionOptions = sessionOptions(backend)): Promise<InferenceSession> {
  if (model.externalData.length === 0) return backend.ort.InferenceSession.create(model.bytes, options);
  return backend.ort.InferenceSession.create(model.bytes, { ...options, externalData: model.externalData });
}
