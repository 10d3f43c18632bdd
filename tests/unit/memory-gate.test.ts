/**
 * A local checkpoint that cannot fit this machine is refused before a byte of it is read
 * (src/node/memory-gate.ts): the CLI prints one line and exits 2. The machine's memory is set
 * with LENSPRESS_MEMORY_BYTES, so the test is the same on any machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { checkFitsMachine } from '../../src/node/memory-gate.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';
import { writeGgufCheckpoint, writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';

let dir: string, gguf: string, folder: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-gate-'));
  const model = randomModel(tinyConfig('mistral'), 7);
  gguf = path.join(dir, 'tiny.gguf');
  await writeGgufCheckpoint(model, gguf);
  folder = path.join(dir, 'tiny-hf');
  await writeHfCheckpoint(model, folder);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (model: string, memory: number) =>
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), 'inspect', '--model', model], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LENSPRESS_MEMORY_BYTES: String(memory) } });

describe('a checkpoint larger than the machine', () => {
  it('the floor is twice the weight files: at the floor it passes, one byte under it is refused', () => {
    expect(() => checkFitsMachine('m', 1000, 2000)).not.toThrow();
    expect(() => checkFitsMachine('m', 1000, 1999)).toThrow(/its weight files are 1000 B/);
    expect(() => checkFitsMachine('m', 8 * 2 ** 30, 12 * 2 ** 30)).toThrow(/its weight files are 8\.0 GB.*at least 16\.0 GB.*this machine has 12\.0 GB of memory/);
  });

  for (const which of ['gguf', 'folder'] as const) {
    it(`${which}: refused in one line with exit 2 when memory is short; opens when it is not`, { timeout: 60_000 }, () => {
      const spec = which === 'gguf' ? gguf : folder;
      const bytes = which === 'gguf' ? statSync(gguf).size : statSync(path.join(folder, 'model.safetensors')).size;
      const refused = cli(spec, bytes); // under 2 × the files
      expect(refused.status).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toContain('Use a quantised GGUF');
      const ok = cli(spec, 64 * 2 ** 30);
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
    });
  }
});
