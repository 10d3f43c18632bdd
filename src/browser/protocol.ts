/** Messages between the page and the inference Worker. */
import type { LogitLensFigureData } from '../core/figures/logit-lens-figure.ts';
import type { NormMode } from '../core/onnx/decode-graph.ts';

export interface ModelAsset {
  name: string;
  /** URLs served by the site itself (no CDN). */
  weightsUrl: string;
  tokenizerUrl: string;
  tokenizerName: string;
  sha256: string;
  bytes: number;
}

export type WorkerRequest = {
  type: 'lens';
  prompt: string;
  norm: NormMode;
  k: number;
  model: ModelAsset;
  codeVersion: string;
  /** 'auto' tries WebGPU and falls back to wasm. */
  backend: 'auto' | 'webgpu' | 'wasm';
};

export type WorkerResponse =
  | { type: 'progress'; stage: 'runtime' | 'download' | 'compute'; loaded?: number; total?: number; message: string }
  | { type: 'result'; data: LogitLensFigureData }
  | { type: 'error'; message: string };
