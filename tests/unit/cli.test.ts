/** The command line, run as a user runs it: `node bin/lenspress.mjs …` in a child process. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';
import { GOLDEN, storiesPath } from '../helpers/stories.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('lenspress generate', () => {
  it('continues from BOS with the golden greedy text (empty prompt)', () => {
    const r = cli(['generate', '--model', 'stories260K', '--prompt', '', '--max-new-tokens', '24', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.ids).toEqual(GOLDEN.greedyFromBos);
    expect(j.tokens.length).toBe(24);
    expect(GOLDEN.text.startsWith(j.text.trim())).toBe(true);
  });

  it('prints the greedy continuation as text', () => {
    const r = cli(['generate', '--model', 'stories260K', '--prompt', 'Once upon a time', '--max-new-tokens', '10']);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('Once upon a time')).toBe(true);
    expect(r.out.trim().length).toBeGreaterThan('Once upon a time'.length + 10);
  });
});

describe('lenspress lens', () => {
  it('prints the grid as JSON: L+2 rows × positions, with provenance', () => {
    const r = cli(['lens', '--model', 'stories260K', '--prompt', 'Tom had a red', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.kind).toBe('logit-lens');
    expect(j.grid.cells.length).toBe(7);
    expect(j.grid.cells[0].length).toBe(j.grid.inputIds.length);
    expect(j.grid.cells[0][0].ids.length).toBe(5);
    expect(j.provenance.model.sha256).toBe('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
    expect(j.provenance.settings.norm).toBe('model');
  });
});

describe('lenspress run and inspect', () => {
  it('run --ids prints tokens, every position\'s logits and the requested hooks as nested arrays', () => {
    const r = cli(['run', '--model', 'stories260K', '--ids', '1,403,407', '--hooks', 'blocks.0.hook_resid_post,blocks.1.attn.hook_pattern', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tokens).toEqual(['<s>', '▁Once', '▁upon']);
    expect(j.logits.length).toBe(3);
    expect(j.logits[0].length).toBe(512);
    GOLDEN.logitsAtBos.forEach((v, i) => expect(Math.abs(j.logits[0][i] - v)).toBeLessThan(1e-4));
    expect(j.hooks['blocks.0.hook_resid_post'].length).toBe(3);
    expect(j.hooks['blocks.0.hook_resid_post'][0].length).toBe(64);
    expect(j.hooks['blocks.1.attn.hook_pattern'].length).toBe(8);
    expect(j.hooks['blocks.1.attn.hook_pattern'][0][0]).toEqual([1, 0, 0]);
  });

  it('run rejects an unknown hook by name', () => {
    const r = cli(['run', '--ids', '1', '--hooks', 'blocks.0.hook_nothing']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown hook: blocks.0.hook_nothing/);
  });

  it('inspect prints architecture, parameter count and a memory estimate', () => {
    const r = cli(['inspect', '--model', 'stories260K', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.parameters).toBe(260032);
    expect(j.config.arch).toBe('llama');
    expect(j.tensorGroups.attention.parameters).toBe(5 * (64 * 64 * 2 + 64 * 32 * 2));
    expect(j.memory.weightsBytes).toBe(260032 * 4);
  });

  it('generate samples reproducibly with a seed', () => {
    const args = ['generate', '--prompt', 'Tom had', '--temperature', '0.9', '--top-p', '0.9', '--seed', '5', '--max-new-tokens', '20', '--json'];
    const a = JSON.parse(cli(args).out), b = JSON.parse(cli(args).out);
    expect(a.ids).toEqual(b.ids);
    expect(a.sampling).toEqual({ temperature: 0.9, topK: 0, topP: 0.9, seed: 5 });
  });
});

describe('bad input: one clear line, non-zero exit, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown model', ['lens', '--model', 'llama-9000', '--prompt', 'x'], /unknown model "llama-9000": expected a known model name \(stories260K\)/],
    ['missing model file', ['lens', '--model', '/nonexistent/m.bin', '--prompt', 'x'], /model file not found: \/nonexistent\/m.bin/],
    ['empty prompt', ['lens', '--prompt', '   '], /prompt is empty/],
    ['prompt past the context', ['lens', '--prompt', 'a '.repeat(600)], /tokens but this model's context is 512/],
    ['missing --prompt', ['lens'], /--prompt TEXT is required/],
    ['bad --norm', ['lens', '--prompt', 'x', '--norm', 'sideways'], /--norm must be one of none, norm, model/],
    ['unknown flag', ['lens', '--prompt', 'x', '--colour'], /Unknown option '--colour'/],
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      noStack(r.err);
    });
  }

  it('a truncated model file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cli-'));
    writeFileSync(path.join(dir, 'm.bin'), readFileSync(storiesPath('stories260K.bin')).subarray(0, 5000));
    copyFileSync(storiesPath('tok512.model'), path.join(dir, 'tok512.model'));
    const r = cli(['lens', '--model', path.join(dir, 'm.bin'), '--prompt', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/m.bin: the header describes \d+ bytes .* but the file has 5000: truncated/);
    noStack(r.err);
  });

  it('a store file with the wrong checksum', () => {
    const store = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cli-'));
    mkdirSync(path.join(store, 'stories260K'));
    const bytes = readFileSync(storiesPath('stories260K.bin'));
    bytes[500] ^= 1;
    writeFileSync(path.join(store, 'stories260K', 'stories260K.bin'), bytes);
    copyFileSync(storiesPath('tok512.model'), path.join(store, 'stories260K', 'tok512.model'));
    const r = cli(['generate', '--prompt', 'x'], { LENSPRESS_MODELS: store });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sha256 is [0-9a-f]{64}, expected b0a507e7/);
    noStack(r.err);
  });
});
