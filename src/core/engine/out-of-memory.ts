/**
 * Running out of memory, said plainly. A model too big for the device fails deep inside the
 * runtime, in words that differ by where it ran:
 * - V8: "RangeError: Array buffer allocation failed" (a typed array the allocator refused);
 * - WebAssembly: a memory that cannot grow ("WebAssembly.Memory.grow(): Unable to grow
 *   instance memory", "…could not allocate memory"; wasm32 stops at 4 GiB), which Emscripten
 *   reports as "Cannot enlarge memory arrays" or "Aborted(OOM)";
 * - ONNX Runtime: "Failed to allocate memory for requested buffer…", std::bad_alloc;
 * - a GPU: "out of memory" (GPUOutOfMemoryError).
 * `isAllocationFailure` recognises them, in an error or its `cause`s; `outOfMemoryError` turns
 * one into a LenspressError naming the model, its size (the estimate of ../model/memory.ts
 * when its shape is known) and what to do. Errors the program raised itself (LenspressError)
 * are never taken for one.
 */
import { LenspressError, isLenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { estimateMemory, formatBytes } from '../model/memory.ts';

const ALLOCATION_FAILURES: readonly RegExp[] = [
  /array buffer allocation failed/i,
  /WebAssembly\.Memory(\.grow)?\(\): (Unable to grow instance memory|could not allocate memory|Maximum memory size exceeded)/i,
  /Cannot allocate Wasm memory/i,
  /Cannot enlarge memory/i,
  /\bAborted\(OOM\)|\babort\(OOM\)/,
  /\bbad_alloc\b/,
  /failed to allocate/i,
  /\bout of memory\b/i,
];

/** Whether `e` (or an error it wraps as `cause`) says an allocation failed. */
export function isAllocationFailure(e: unknown): boolean {
  let x: unknown = e;
  for (let depth = 0; depth < 5 && x !== undefined && x !== null; depth++) {
    if (isLenspressError(x)) return false;
    const text = x instanceof Error ? `${x.name}: ${x.message}` : String(x);
    if (ALLOCATION_FAILURES.some((p) => p.test(text))) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

export type MemoryBackend = 'wasm' | 'webgpu' | 'node';

export interface OutOfMemoryContext {
  /** The model's name as the reader knows it. */
  model: string;
  backend: MemoryBackend;
  /** Its shape, when it was read before memory ran out. */
  config?: ModelConfig;
  /** Prompt length for the activation estimate. */
  tokens?: number;
  /** Bytes of its files, when the shape is unknown. */
  fileBytes?: number;
  /** The runtime's own words (kept short), for a bug report. */
  detail?: string;
}

const WHERE: Record<MemoryBackend, string> = {
  wasm: "in this page's WebAssembly memory (at most 4 GiB, less when the browser is short of memory)",
  webgpu: "in the GPU's memory (WebGPU)",
  node: 'in the memory of this process',
};

const ADVICE: Record<MemoryBackend, string> = {
  wasm: 'What to do: choose a smaller model or a shorter prompt; run on WebGPU if your browser offers it (its memory is the GPU\'s, not WebAssembly\'s 4 GiB); close other tabs; then press Run again.',
  webgpu: 'What to do: choose a smaller model or a shorter prompt; run on WebAssembly instead of WebGPU; close other tabs and programs that use the GPU; then press Run again.',
  node: 'What to do: use a smaller model or a shorter prompt, close other programs, or run on a machine with more memory.',
};

/** The size sentence: the estimate when the shape is known, else the files' size. */
function sizeSentence(c: OutOfMemoryContext): string {
  if (c.config) {
    const tokens = c.tokens ?? 64;
    const e = estimateMemory(c.config, tokens);
    return `It has ${e.parameters.toLocaleString('en-US')} parameters and needs about ${formatBytes(e.totalBytes)} for ${tokens} tokens: ${formatBytes(e.weightsBytes)} of weights in JavaScript, ${formatBytes(e.sessionBytes)} again in ONNX Runtime, ${formatBytes(e.activationBytes + e.hookBytes)} of activations and hooks.`;
  }
  if (c.fileBytes !== undefined) return `Its files are ${formatBytes(c.fileBytes)}; held as float32 in JavaScript and again in ONNX Runtime it needs at least twice that.`;
  return 'Its size is not known yet (memory ran out while reading it).';
}

/** The error to show instead of the runtime's: which model, how big, what to do. */
export function outOfMemoryError(c: OutOfMemoryContext): LenspressError {
  const said = c.detail ? ` (The runtime said: ${c.detail.replace(/\s+/g, ' ').trim().slice(0, 160)})` : '';
  return new LenspressError('out-of-memory', `out of memory: ${c.model} did not fit ${WHERE[c.backend]}. ${sizeSentence(c)} ${ADVICE[c.backend]}${said}`);
}
