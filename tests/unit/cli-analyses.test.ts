/** The analysis commands (flow, heads, attention) run as a user runs them: `node bin/lenspress.mjs …` in a child process. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const SHA = 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696';
const PROMPT = 'Once upon a time, there was a little girl named Lily.';

describe('lenspress flow', () => {
  it('--json: a d3-sankey graph from the final norm of the last position, mass 1 on every row', () => {
    const r = cli(['flow', '--prompt', PROMPT, '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.kind).toBe('flow');
    expect(j.provenance.model.sha256).toBe(SHA);
    const T = j.ids.length;
    expect(j.graph.nodes[0]).toMatchObject({ id: `final:6:${T - 1}`, type: 'final', mass: 1 });
    expect(j.graph.rowMass.map((x: { row: number }) => x.row)).toEqual([5, 4, 3, 2, 1, 0]);
    for (const { mass } of j.graph.rowMass) expect(Math.abs(mass - 1)).toBeLessThan(1e-9);
    const ids = new Set(j.graph.nodes.map((n: { id: string }) => n.id));
    for (const l of j.graph.links) expect(ids.has(l.source) && ids.has(l.target)).toBe(true);
    // top-1 by default: one listed attention link per attention node
    const attentionNodes = j.graph.nodes.filter((n: { type: string }) => n.type === 'attention').length;
    expect(j.graph.links.filter((l: { type: string; weight?: number }) => l.type === 'attention' && l.weight !== undefined).length).toBe(attentionNodes);
  });

  it('--generated 3 --hide-bos --layers 2 --min-weight 0.05', () => {
    const r = cli(['flow', '--prompt', PROMPT, '--generated', '3', '--hide-bos', '--layers', '2', '--min-weight', '0.05', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.generated.ids.length).toBe(3);
    const T = j.ids.length;
    expect(j.ids.slice(T - 2)).toEqual(j.generated.ids.slice(0, 2)); // prompt + the first N−1 generated tokens
    expect(j.graph.nodes.filter((n: { type: string }) => n.type === 'final').map((n: { position: number; mass: number }) => [n.position, n.mass])).toEqual([
      [T - 3, 1 / 3],
      [T - 2, 1 / 3],
      [T - 1, 1 / 3],
    ]);
    expect(j.graph.rowMass.map((x: { row: number }) => x.row)).toEqual([5, 4, 3]);
    expect(j.graph.nodes.some((n: { position: number }) => n.position === 0)).toBe(false);
    for (const l of j.graph.links.filter((x: { weight?: number }) => x.weight !== undefined)) expect(l.weight).toBeGreaterThanOrEqual(0.05);
  });

  it('prints a table of block masses', () => {
    const r = cli(['flow', '--prompt', 'Tom had a red ball', '--layer', '3', '--position', '4']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^block 3 +· +· +· +· +100\.0%/);
    expect(lines.find((l) => l.startsWith('embed'))).toBeDefined();
    expect(r.out).toMatch(/starting from block 3 at position 4/);
  });
});

describe('lenspress heads', () => {
  it('--json --first 5: correlation over L·H·5 pairs, p-values, top-10 tables', () => {
    const r = cli(['heads', '--prompt', PROMPT, '--first', '5', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.kind).toBe('heads');
    expect(j.heads.chosen).toEqual([0, 1, 2, 3, 4]);
    const { pearson, spearman, kendall } = j.heads.correlation;
    expect([pearson.n, spearman.n, kendall.n]).toEqual([200, 200, 200]); // 5 layers × 8 heads × 5 positions
    for (const t of [pearson, spearman, kendall]) {
      expect(Math.abs(t.statistic)).toBeLessThanOrEqual(1);
      expect(t.pValue).toBeGreaterThanOrEqual(0);
      expect(t.pValue).toBeLessThanOrEqual(1);
    }
    expect(j.heads.top.byNorm.length).toBe(10);
    expect(j.heads.source).toBe('reduced');
  });

  it('prints the three correlations and both tables', () => {
    const r = cli(['heads', '--prompt', PROMPT, '--last', '4', '--top-k', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/over positions \d+\.\.\d+ \(160 \(layer, head, position\) pairs\)/);
    expect(r.out).toMatch(/Pearson r +-?\d\.\d{4} +p = /);
    expect(r.out).toMatch(/Kendall tau-b .*\(asymptotic\)/);
    expect(r.out).toMatch(/top 3 heads by L2 norm/);
    expect(r.out).toMatch(/top 3 heads by cosine/);
  });
});

describe('lenspress attention', () => {
  it('--json: one weight per token, summing to 1; the threshold zeroes shades', () => {
    const r = cli(['attention', '--prompt', PROMPT, '--layer', '4', '--head', '2', '--query', '6', '--threshold', '0.1', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.kind).toBe('attention');
    const tokens = j.attention.tokens as { weight: number; shade: number; isQuery: boolean }[];
    expect(Math.abs(tokens.reduce((s, t) => s + t.weight, 0) - 1)).toBeLessThan(1e-5);
    expect(tokens.slice(7).every((t) => t.weight === 0)).toBe(true);
    for (const t of tokens) if (t.weight < 0.1) expect(t.shade).toBe(0);
    expect(tokens.findIndex((t) => t.isQuery)).toBe(6);
    expect(j.provenance.settings).toEqual({ layer: 4, head: 2, query: 6, threshold: 0.1 });
  });

  it('prints one line per visible key', () => {
    const r = cli(['attention', '--prompt', 'Tom had a red ball', '--layer', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mean over heads/);
    expect(r.out).toMatch(/^ +0 +<s> +\d+\.\d%/m);
  });
});

describe('analysis commands: bad flags give one clear line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['flow', '--prompt', 'x', '--generated', '2', '--layer', '1'], /give either --layer\/--position or --generated, not both/],
    [['flow', '--prompt', 'x', '--top-k', '2', '--min-weight', '0.1'], /give either --top-k or --min-weight, not both/],
    [['flow', '--prompt', 'x', '--layer', '7'], /--layer must be a whole number from 0 to 6, got "7"/],
    [['flow', '--prompt', 'x', '--min-weight', 'lots'], /--min-weight must be a number from 0 to 1, got "lots"/],
    [['flow', '--prompt', 'Tom', '--hide-bos', '--position', '0'], /first \(BOS\) token/],
    [['flow', '--prompt', '  '], /the prompt is empty/],
    [['heads', '--prompt', 'x', '--first', '1', '--last', '1'], /give either --first or --last, not both/],
    [['heads', '--prompt', 'Tom', '--last', '99'], /--last must be a whole number from 1 to \d+, got "99"/],
    [['attention', '--prompt', 'x'], /--layer L is required/],
    [['attention', '--prompt', 'x', '--layer', '1', '--head', '8'], /--head must be a whole number from 0 to 7, got "8"/],
    [['attention', '--prompt', 'x', '--layer', '0', '--head', '1', '--average'], /give either --head or --average, not both/],
    [['attention', '--prompt', 'x', '--layer', '0', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
});
