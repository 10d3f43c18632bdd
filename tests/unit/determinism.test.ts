/** Two clean computations of the same figures, in separate processes, give byte-identical data. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

function computeOnce(): Promise<string> {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'lenspress-det-'));
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/compute-figures.ts')], { cwd: PROJECT_ROOT, env: { ...process.env, LENSPRESS_FIGURE_CACHE: cache }, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

describe('determinism', () => {
  it('figure data from two clean runs is byte-identical (lens with sampling, flow, gradient)', { timeout: 240_000 }, async () => {
    const [a, b] = [await computeOnce(), await computeOnce()];
    expect(a.length).toBeGreaterThan(1000);
    expect(b === a).toBe(true);
  });
});
