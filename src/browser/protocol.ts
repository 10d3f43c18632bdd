/** Messages between the page and the inference Worker. */
import type { FigureData } from '../core/figures/figure-kind.ts';
import type { AssetFile, AssetFormat } from '../core/model/open-asset.ts';

/** A model as the site serves it to readers' browsers (files under /generated/models/). */
export interface ModelAsset {
  name: string;
  format: AssetFormat;
  /** Shown in provenance, e.g. "llama2.c .bin", "Hugging Face safetensors (bfloat16)". */
  formatLabel: string;
  /** Served by the site itself (no CDN). */
  files: AssetFile[];
  /** sha256 of the weights file, as figures cite it. */
  sha256: string;
  /** Total bytes to download. */
  bytes: number;
}

export interface FigureRequest {
  type: 'figure';
  /** Matches the response to the figure that asked (one Worker serves the whole page). */
  id: number;
  kind: string;
  props: Record<string, unknown>;
  model: ModelAsset;
  codeVersion: string;
  /** 'auto' tries WebGPU and falls back to wasm. */
  backend: 'auto' | 'webgpu' | 'wasm';
}

export type WorkerResponse =
  | { id: number; type: 'progress'; stage: 'runtime' | 'download' | 'compute'; loaded?: number; total?: number; message: string }
  | { id: number; type: 'result'; data: FigureData }
  | { id: number; type: 'error'; message: string };
