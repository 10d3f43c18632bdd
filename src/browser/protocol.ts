/** Messages between the page and the inference Worker. */
import type { FigureData } from '../core/figures/figure-kind.ts';
import type { HubFile } from '../core/hub/hub-client.ts';
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

/**
 * A model the reader picked instead of the site's (src/browser/model-choice.ts): files from
 * the hub (listed, sizes and sha256 known before the download) or from the reader's disk.
 */
export type ModelSource =
  | { type: 'hub'; hubUrl: string; spec: string; name: string; format: 'hf' | 'gguf'; formatLabel: string; files: HubFile[]; sha256: string; bytes: number }
  | { type: 'local'; name: string; formatLabel: string; files: File[] };

export interface FigureRequest {
  type: 'figure';
  /** Matches the response to the figure that asked (one Worker serves the whole page). */
  id: number;
  kind: string;
  props: Record<string, unknown>;
  model: ModelAsset;
  /** The reader's choice; absent: the site's model above. */
  source?: ModelSource;
  codeVersion: string;
  /** 'auto' tries WebGPU and falls back to wasm. */
  backend: 'auto' | 'webgpu' | 'wasm';
  /** Set by the page when it re-sends a request on wasm after WebGPU's device was lost in another Worker: the provenance says so. */
  webgpuFailed?: string;
}

export type WorkerResponse =
  | { id: number; type: 'progress'; stage: 'runtime' | 'download' | 'compute'; loaded?: number; total?: number; message: string }
  | { id: number; type: 'result'; data: FigureData }
  /** `broken`: the Worker's runtime may be unusable (memory ran out, the GPU device was lost): the page replaces the Worker. */
  | { id: number; type: 'error'; message: string; broken?: boolean }
  /** WebGPU's device was lost mid-run: the page replaces the Worker and re-sends the request on wasm (never reaches a figure). */
  | { id: number; type: 'webgpu-lost'; reason: string };
