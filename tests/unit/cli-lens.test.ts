/** `lenspress lens` with the decoding options of methods.md §2, run as a user runs it (child process). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('lenspress lens: states, decoders, secondaries, colours', () => {
  it('--state attn --decoder maxprob --secondary iterative --color entropy --json: rows 1..L, winners, iterative tokens, settings in provenance', () => {
    const r = cli(['lens', '--prompt', 'Tom had a red', '--state', 'attn', '--decoder', 'maxprob', '--norm', 'none', '--secondary', 'iterative', '--k', '3', '--color', 'entropy', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.grid.rows).toEqual([1, 2, 3, 4, 5]);
    expect(j.grid.rowLabels[0]).toBe('attn 1');
    expect(j.grid.settings).toEqual({ state: 'attn', decoder: 'maxprob', norm: 'none', secondary: 'iterative', k: 3 });
    expect(j.provenance.settings).toEqual(j.grid.settings);
    expect(j.color).toBe('entropy');
    const c = j.grid.cells[2][1];
    expect(c.winner).toBe('out'); // stories260K is tied: one matrix
    expect(c.secondary.ids[0]).toBe(c.ids[0]);
    expect(c.metrics.attShare).toBeGreaterThan(0);
  });

  it('the text table shows the chosen metric', () => {
    const r = cli(['lens', '--prompt', 'Tom had a red', '--color', 'kl']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^embed .*–/m); // no KL on the first row
    expect(r.out).toContain('color=kl');
  });

  for (const [flag, value, message] of [
    ['--state', 'residual', /--state must be one of block, intermediate, attn, ffn, diff, got "residual"/],
    ['--decoder', 'both', /--decoder must be one of output, input, linear, quadratic, maxprob, got "both"/],
    ['--secondary', 'all', /--secondary must be one of topk, iterative, got "all"/],
    ['--color', 'red', /--color must be one of prob, entropy, att-share, ff-share, kl, got "red"/],
  ] as const) {
    it(`a bad ${flag} is one clear line, exit 2`, () => {
      const r = cli(['lens', '--prompt', 'x', flag, value]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
});
