/** Messages between the page and the inference Worker. */
import type { FigureData } from '../core/figures/figure-kind.ts';

export interface ModelAsset {
  name: string;
  /** URLs served by the site itself (no CDN). */
  weightsUrl: string;
  tokenizerUrl: string;
  tokenizerName: string;
  sha256: string;
  bytes: number;
}

export interface FigureRequest {
  type: 'figure';
  kind: string;
  props: Record<string, unknown>;
  model: ModelAsset;
  codeVersion: string;
  /** 'auto' tries WebGPU and falls back to wasm. */
  backend: 'auto' | 'webgpu' | 'wasm';
}

export type WorkerResponse =
  | { type: 'progress'; stage: 'runtime' | 'download' | 'compute'; loaded?: number; total?: number; message: string }
  | { type: 'result'; data: FigureData }
  | { type: 'error'; message: string };
