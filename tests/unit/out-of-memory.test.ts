/**
 * Running out of memory (issue 9): which errors count as a failed allocation, what the reader
 * is told, and the CLI's one line (exit 2, no stack). The allocation failures here are real
 * where Node can raise them (V8 refusing a 1 PiB ArrayBuffer, a WebAssembly memory that may not
 * grow); the others are the messages ONNX Runtime and Emscripten print, copied from their
 * sources. The page's own out-of-memory run is in tests/e2e/robustness.spec.ts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAllocationFailure, outOfMemoryError } from '../../src/core/engine/out-of-memory.ts';
import { LenspressError } from '../../src/core/errors.ts';
import { estimateMemory, formatBytes } from '../../src/core/model/memory.ts';
import { openModel } from '../../src/node/open-model.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('isAllocationFailure', () => {
  it('recognises real allocation failures of V8 and WebAssembly, also as a cause', () => {
    const v8 = thrown(() => new ArrayBuffer(2 ** 50));
    expect(String(v8)).toBe('RangeError: Array buffer allocation failed');
    expect(isAllocationFailure(v8)).toBe(true);
    const wasm = thrown(() => new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(4));
    expect(String(wasm)).toMatch(/^RangeError: WebAssembly\.Memory\.grow\(\)/);
    expect(isAllocationFailure(wasm)).toBe(true);
    expect(isAllocationFailure(new Error('building the session failed', { cause: v8 }))).toBe(true);
  });

  it("recognises ONNX Runtime's, Emscripten's and the GPU's words for it", () => {
    for (const message of [
      'failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc',
      'Non-zero status code returned while running MatMul node. Name:\'MatMul_12\' Status Message: Failed to allocate memory for requested buffer of size 1099511627776',
      'Aborted(OOM). Build with -sASSERTIONS for more info.',
      'Cannot enlarge memory arrays to size 4294967296 bytes (OOM). Either (1) compile with -sINITIAL_MEMORY=X with X higher than the current value 16777216',
      'WebAssembly.Memory.grow(): Unable to grow instance memory',
      'WebAssembly.Memory(): could not allocate memory',
      'Out of memory: Cannot allocate Wasm memory for new instance',
      'GPUOutOfMemoryError: Out of memory',
    ]) expect(isAllocationFailure(new Error(message)), message).toBe(true);
  });

  it('does not take other failures for one', () => {
    for (const e of [
      new LenspressError('out-of-memory', 'out of memory: already explained'),
      new LenspressError('bad-prompt', 'the prompt has 751 tokens but this model\'s context is 512: shorten it'),
      thrown(() => new Float32Array(-1)),
      new WebAssembly.RuntimeError('memory access out of bounds'),
      new Error("Non-zero status code returned while running MatMul node. Status Message: matmul_helper.h:142 Compute MatMul dimension mismatch"),
      new TypeError("Cannot read properties of undefined (reading 'dims')"),
      'the worker failed to start',
      undefined,
    ]) expect(isAllocationFailure(e), String(e)).toBe(false);
  });
});

describe('outOfMemoryError', () => {
  it('names the model, gives its estimate (memory.ts) and says what to do, per backend', async () => {
    const { model } = await openModel('stories260K');
    const c = model.config;
    const e = estimateMemory(c, 12);
    const wasm = outOfMemoryError({ model: 'stories260K', backend: 'wasm', config: c, tokens: 12, detail: 'Aborted(OOM)' });
    expect(wasm).toBeInstanceOf(LenspressError);
    expect(wasm.code).toBe('out-of-memory');
    expect(wasm.message).toBe(
      `out of memory: stories260K did not fit in this page's WebAssembly memory (at most 4 GiB, less when the browser is short of memory). ` +
        `It has 260,032 parameters and needs about ${formatBytes(e.totalBytes)} for 12 tokens: ${formatBytes(e.weightsBytes)} of weights in JavaScript, ${formatBytes(e.sessionBytes)} again in ONNX Runtime, ${formatBytes(e.activationBytes + e.hookBytes)} of activations and hooks. ` +
        `What to do: choose a smaller model or a shorter prompt; run on WebGPU if your browser offers it (its memory is the GPU's, not WebAssembly's 4 GiB); close other tabs; then press Run again. (The runtime said: Aborted(OOM))`,
    );
    const gpu = outOfMemoryError({ model: 'org/big', backend: 'webgpu', fileBytes: 3 * 2 ** 30 }).message;
    expect(gpu).toContain("org/big did not fit in the GPU's memory (WebGPU). Its files are 3.0 GB;");
    expect(gpu).toContain('run on WebAssembly instead of WebGPU');
    expect(outOfMemoryError({ model: 'x', backend: 'node' }).message).toContain('Its size is not known yet');
  });
});

describe('the CLI out of memory', () => {
  it('prints one line naming the model, its estimate and what to do, and exits with 2', { timeout: 60_000 }, () => {
    const r = spawnSync(process.execPath, ['--import', path.join(PROJECT_ROOT, 'tests/helpers/oom-preload.mjs'), path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), 'lens', '--prompt', 'Tom had a red ball', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^lenspress lens: out of memory: stories260K did not fit in the memory of this process\. It has 260,032 parameters and needs about [\d.]+ MB for 9 tokens: .* What to do: use a smaller model or a shorter prompt, close other programs, or run on a machine with more memory\. \(The runtime said: Array buffer allocation failed\)\n$/);
    expect(r.status).toBe(2);
  });
});
