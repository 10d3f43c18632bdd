import type { ModelProvenance } from '../model/open.ts';

/** Printed under every figure: which model, which settings, which code made it. */
export interface Provenance {
  model: ModelProvenance;
  /** Hash of the core's source (see src/node/code-version.ts), shared by build and page. */
  codeVersion: string;
  /** Where it ran: "onnxruntime-node (cpu)", "WebGPU", "WebAssembly". */
  backend: string;
  settings: Record<string, string | number | boolean>;
}
