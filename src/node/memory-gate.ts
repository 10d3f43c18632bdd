/**
 * Refuses, before anything is read, a local checkpoint that cannot fit this machine's memory.
 * The bound is deliberately a floor, not the estimate: opening holds every tensor's file bytes
 * (quantised blocks as stored, F16/BF16 before they widen to float32), and ONNX Runtime keeps its
 * own copy of the weights in the session, so a model needs at least twice its files' bytes. A
 * model under that floor may still run out later (the CLI then says so: core/engine/out-of-memory.ts);
 * a model over it cannot load, and saying so now saves minutes of reading and swapping.
 * `LENSPRESS_MEMORY_BYTES` overrides the machine's total (tests; a container's real limit).
 */
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LenspressError } from '../core/errors.ts';
import { formatBytes } from '../core/model/memory.ts';

export function machineMemoryBytes(): number {
  const env = Number(process.env.LENSPRESS_MEMORY_BYTES);
  return Number.isFinite(env) && env > 0 ? env : os.totalmem();
}

/** The weight files a local spec names: the .gguf itself, or a folder's .safetensors. */
export function weightFileBytes(spec: string): number {
  const st = statSync(spec);
  if (!st.isDirectory()) return st.size;
  return readdirSync(spec)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((s, f) => s + statSync(path.join(spec, f)).size, 0);
}

export function checkFitsMachine(spec: string, fileBytes = weightFileBytes(spec), memoryBytes = machineMemoryBytes()): void {
  const floor = 2 * fileBytes;
  if (floor <= memoryBytes) return;
  throw new LenspressError(
    'out-of-memory',
    `${spec}: its weight files are ${formatBytes(fileBytes)}, and opening a model holds them plus ONNX Runtime's copy of the weights — at least ${formatBytes(floor)} — but this machine has ${formatBytes(memoryBytes)} of memory. ` +
      'Use a quantised GGUF (Q4_0 or Q8_0 projections stay quantised), a smaller model, or a machine with more memory.',
  );
}
