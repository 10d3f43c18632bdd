/**
 * <Value>'s pipeline: author props → kind props through the component registry (the same
 * mapping the figure components use), the figure's data from the figure cache, a path into
 * it, and the number typeset. The number must be exactly the figure's own.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIGURES } from '../../src/core/figures/registry.ts';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { codeVersion } from '../../src/node/code-version.ts';
import { precomputeKind, sharedModel } from '../../src/node/precompute.ts';
import { parsePath, readPath } from '../../src/site/data-path.ts';
import { loadFigure } from '../../src/site/figure-data.ts';
import { FIGURE_COMPONENTS, figureComponent, resolveFigure } from '../../src/site/figure-components.ts';
import { figureId } from '../../src/site/figure-id.ts';
import { parseProps } from '../../src/site/props.ts';
import { formatValue } from '../../src/site/value-format.ts';

describe('readPath', () => {
  const data = { correlation: { pearson: { r: 0.6540, p: 4.2e-5 }, kendall: { tau: 0.4234 } }, grid: { cells: [[{ e: 1 }, { e: 2 }], [{ e: 3 }, { e: 4 }]] }, label: '▁Lily', ok: true, v: new Float32Array([0.5, 0.25]) };

  it('follows dotted keys, indices, negative indices and length', () => {
    expect(readPath(data, 'correlation.pearson.r')).toBe(0.654);
    expect(readPath(data, 'grid.cells.1.0.e')).toBe(3);
    expect(readPath(data, 'grid.cells[-1][-1].e')).toBe(4);
    expect(readPath(data, 'grid.cells.length')).toBe(2);
    expect(readPath(data, 'label')).toBe('▁Lily');
    expect(readPath(data, 'ok')).toBe(true);
    expect(readPath(data, 'v[1]')).toBe(0.25);
    expect(parsePath('a[0].b[-2]')).toEqual(['a', '0', 'b', '-2']);
  });

  it('says where a path stopped and which keys exist there', () => {
    expect(() => readPath(data, 'correlation.spearman.r')).toThrow('no key "spearman" in correlation; keys there: pearson, kendall');
    expect(() => readPath(data, 'nope')).toThrow('no key "nope" in (top level); keys there: correlation, grid, label, ok, v');
    expect(() => readPath(data, 'grid.cells.2')).toThrow('index 2 is out of range: grid.cells is an array of length 2');
    expect(() => readPath(data, 'grid.cells.first')).toThrow('"first" is not an index');
    expect(() => readPath(data, 'correlation.pearson')).toThrow('correlation.pearson is an object with keys r, p, not a number or string');
    expect(() => readPath(data, 'label.x')).toThrow('label is a string, which has no "x"');
    expect(() => readPath(data, 'a..b')).toThrow('not a dotted path');
  });
});

describe('formatValue', () => {
  it('typesets numbers', () => {
    expect(formatValue(0.65404, { digits: 3 })).toBe('0.654');
    expect(formatValue(0.65404, { format: 'fixed', digits: 1 })).toBe('0.7');
    expect(formatValue(0.65404)).toBe('0.654');
    expect(formatValue(-0.5, { digits: 2 })).toBe('\u22120.50');
    expect(formatValue(-0.0001, { digits: 2 })).toBe('0.00');
    expect(formatValue(7)).toBe('7');
    expect(formatValue(2048)).toBe('2048');
    expect(formatValue(260_224)).toBe('260,224');
    expect(formatValue(0.4234, { format: 'percent' })).toBe('42.3%');
    expect(formatValue(0.4234, { format: 'percent', digits: 0 })).toBe('42%');
    expect(formatValue(4.2e-5, { format: 'exp', digits: 1 })).toBe('4.2 \u00d7 10\u207b\u2075');
    expect(formatValue(-123456, { format: 'exp' })).toBe('\u22121.23 \u00d7 10\u2075');
    expect(formatValue(0.5, { format: 'exp' })).toBe('5.00 \u00d7 10\u207b\u00b9');
    expect(formatValue(Number.NaN)).toBe('NaN');
  });

  it('prints strings and tokens, and refuses a numeric format for a string', () => {
    expect(formatValue('▁Lily')).toBe('▁Lily');
    expect(formatValue('<0x0A>', { format: 'token' })).toBe('\\n');
    expect(() => formatValue('▁Lily', { format: 'percent' })).toThrow('format="percent" needs a number');
    expect(() => formatValue(3, { format: 'token' })).toThrow('needs a string');
  });
});

describe('the figure component registry', () => {
  it('maps every component to a registered figure kind, with a valid example', () => {
    for (const [name, c] of Object.entries(FIGURE_COMPONENTS)) {
      expect(FIGURES[c.kind], `${name}: kind ${c.kind}`).toBeDefined();
      expect(() => parseProps(c.schema, c.example, name)).not.toThrow();
    }
  });

  it('registers every figure component in components/', () => {
    // A component that draws <Figure> without a registry entry would be missing from the
    // about page and unusable by <Value>.
    const dir = path.join(import.meta.dirname, '../../components');
    const figures = readdirSync(dir)
      .filter((f) => f.endsWith('.astro') && f !== 'Figure.astro')
      .filter((f) => /<Figure\b/.test(readFileSync(path.join(dir, f), 'utf8')))
      .map((f) => f.replace(/\.astro$/, ''));
    expect(figures.filter((n) => !(n in FIGURE_COMPONENTS))).toEqual([]);
  });

  it('turns LogitLens author props into the kind props and id the component always used', () => {
    const r = resolveFigure('LogitLens', { prompt: '  Tom had a red ball ', k: 3, caption: 'A caption' });
    const props = { prompt: 'Tom had a red ball', norm: 'model', k: 3, state: 'block', decoder: 'output', secondary: 'topk', color: 'prob', generate: 0, temperature: 0, topK: 0, topP: 1, seed: 0 };
    expect(r).toEqual({ component: 'LogitLens', kind: 'logit-lens', model: 'stories260K', caption: 'A caption', id: figureId('lens', props), props });
    expect(resolveFigure('LogitLens', { prompt: 'x', id: 'my-lens' }).id).toBe('my-lens');
    // Astro's scoped-style attribute on a component placed in an .astro page is not an author prop.
    expect(resolveFigure('LogitLens', { prompt: 'x', 'data-astro-cid-abc123': true })).toEqual(resolveFigure('LogitLens', { prompt: 'x' }));
  });

  it('fails with what exists: an unknown component, invalid props', () => {
    expect(() => figureComponent('LogitLenz')).toThrow(/unknown figure component <LogitLenz>: expected one of LogitLens, .*MarkovProbe/);
    expect(() => figureComponent('toString')).toThrow(/unknown figure component/);
    expect(() => resolveFigure('LogitLens', { prompt: 'x', norm: 'rms' })).toThrow(/<LogitLens> has invalid props[\s\S]*norm/);
  });
});

describe('a value from a figure', () => {
  let cacheDir: string;
  const saved = process.env.LENSPRESS_FIGURE_CACHE;
  beforeAll(() => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-value-'));
    process.env.LENSPRESS_FIGURE_CACHE = cacheDir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.LENSPRESS_FIGURE_CACHE;
    else process.env.LENSPRESS_FIGURE_CACHE = saved;
  });

  it('is the number of the figure with the same props, from the same cache entry', async () => {
    const received = { prompt: 'Once upon a time' };
    const figure = await loadFigure('LogitLens', received);
    // The figure as the kind computes it, with every prop spelled out and no registry involved.
    const explicit = { prompt: 'Once upon a time', norm: 'model', k: 5, state: 'block', decoder: 'output', secondary: 'topk', color: 'prob', generate: 0, temperature: 0, topK: 0, topP: 1, seed: 0 };
    const m = await sharedModel('stories260K');
    const independent = (await FIGURES['logit-lens'].compute({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: codeVersion() }, explicit)) as LogitLensFigureData;
    const viaKind = (await precomputeKind('logit-lens', 'stories260K', explicit)) as LogitLensFigureData;
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1); // one entry, shared

    const p = 'grid.cells[-1][-1].probs[0]';
    const cells = independent.grid.cells;
    const top = cells[cells.length - 1][cells[0].length - 1].probs[0];
    expect(readPath(figure.data, p)).toBe(top);
    expect(readPath(viaKind, p)).toBe(top);
    expect(formatValue(readPath(figure.data, p), { format: 'percent' })).toBe(`${(top * 100).toFixed(1)}%`);
    expect(top).toBeGreaterThan(0);
    expect(top).toBeLessThanOrEqual(1);
  });
});
