/**
 * The head-contribution renderer (src/core/render/head-contributions-svg.ts): hand-made norms
 * and cosines (2 layers × 3 heads × 3 positions), committed SVG snapshots, one dot per
 * (layer, head, chosen position) placed by its values and coloured by layer, the correlation
 * caption (Pearson r checked against the textbook formula to 1e-12), top-k tables as
 * focusable text rows, token strings as text only.
 */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { computeHeadContributions, type HeadContributionOptions } from '../../src/core/analysis/head-contributions.ts';
import type { HookMap } from '../../src/core/engine/hooked-model.ts';
import { headsKind, type HeadsFigureData } from '../../src/core/figures/kinds/heads.ts';
import { correlationCaption, formatP, headPoints, renderHeadContributions } from '../../src/core/render/head-contributions-svg.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

/** [layer][position][head] */
const NORM = [
  [[0.5, 1.2, 0.3], [0.8, 0.4, 2.0], [0.1, 0.9, 1.5]],
  [[1.1, 0.2, 0.6], [2.4, 0.7, 0.3], [0.5, 1.8, 1.0]],
];
const COS = [
  [[0.2, 0.5, -0.1], [0.3, 0.1, 0.8], [0.05, 0.4, 0.6]],
  [[0.45, 0.0, 0.25], [0.9, 0.2, -0.2], [0.1, 0.7, 0.35]],
];

function hooks(): HookMap {
  const m: HookMap = new Map();
  for (let l = 0; l < 2; l++) {
    m.set(`blocks.${l}.attn.hook_result_norm`, { data: Float32Array.from(NORM[l].flat()), dims: [3, 3] });
    m.set(`blocks.${l}.attn.hook_result_cos`, { data: Float32Array.from(COS[l].flat()), dims: [3, 3] });
  }
  return m;
}

const PROVENANCE = { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: {} };
const figure = (options: HeadContributionOptions): HeadsFigureData => ({
  kind: 'heads',
  prompt: 'Tom ran',
  tokens: ['<s>', '▁Tom', '<img/src=x/onerror=alert(1)>'],
  heads: computeHeadContributions(hooks(), { n_layers: 2, n_heads: 3 }, options),
  provenance: PROVENANCE,
});
const ALL = figure({ positions: 'all', topK: 3 });
const LAST = figure({ positions: { last: 2 }, topK: 2 });

/** Pearson's r by its definition, in float64, for an independent check. */
function textbookPearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length, my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i] - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('head-contribution renderer', () => {
  const doc = staticDocument();
  const svg = renderHeadContributions(ALL, { document: doc });

  it('matches the committed SVG snapshots (all positions, top 3; last 2 positions, top 2)', () => {
    for (const [name, out] of [
      ['head-contributions-small', svg],
      ['head-contributions-last', renderHeadContributions(LAST, { document: doc })],
    ] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('draws one dot per (layer, head, chosen position), placed by cosine (x) and norm (y), coloured by layer', () => {
    const dots = [...svg.querySelectorAll('circle.point')];
    expect(dots.length).toBe(2 * 3 * 3);
    expect(renderHeadContributions(LAST, { document: doc }).querySelectorAll('circle.point').length).toBe(2 * 3 * 2);
    const points = headPoints(ALL);
    const at = dots.map((c) => ({ p: points[Number(c.getAttribute('data-point'))], cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')), fill: c.getAttribute('fill') }));
    expect(new Set(at.map((a) => `${a.p.layer}:${a.p.head}:${a.p.position}`)).size).toBe(18);
    for (const a of at) expect(a.p.norm).toBeCloseTo(NORM[a.p.layer][a.p.position][a.p.head], 6);
    // Larger cosine → further right; larger norm → higher up (smaller y).
    for (const a of at)
      for (const b of at) {
        if (a.p.cosine < b.p.cosine - 1e-6) expect(a.cx).toBeLessThan(b.cx);
        if (a.p.norm < b.p.norm - 1e-6) expect(a.cy).toBeGreaterThan(b.cy);
      }
    const swatches = [...svg.querySelectorAll('circle.legend-swatch')].map((c) => c.getAttribute('fill'));
    expect(swatches.length).toBe(2);
    expect(new Set(swatches).size).toBe(2);
    for (const a of at) expect(a.fill).toBe(swatches[a.p.layer]);
    // Each dot's <title> names it, so hovering works without JavaScript.
    expect(dots[0].querySelector('title')!.textContent).toMatch(/^layer 0 head 0, position 0 \(<s>\): L2 norm 0\.500, cosine 0\.200$/);
  });

  it('states Pearson, Spearman and Kendall with p-values in the caption', () => {
    const x = NORM.flatMap((l) => l.flat()), y = COS.flatMap((l) => l.flat());
    const r = ALL.heads.correlation.pearson.statistic;
    expect(Math.abs(r - textbookPearson(x.map(Math.fround), y.map(Math.fround)))).toBeLessThan(1e-12);
    const text = [...svg.querySelectorAll('text.caption')].map((t) => t.textContent).join('\n');
    expect(text).toContain(`Pearson r = ${r.toFixed(3)} (p = ${formatP(ALL.heads.correlation.pearson.pValue)})`);
    expect(text).toContain(`Spearman ρ = ${ALL.heads.correlation.spearman.statistic.toFixed(3)}`);
    expect(text).toContain(`Kendall τ-b = ${ALL.heads.correlation.kendall.statistic.toFixed(3)}`);
    expect(text).toContain('normal approximation'); // ties (norm 0.5, cosine 0.2 twice): scipy's asymptotic test
    expect(correlationCaption(LAST)[0]).toBe('L2 norm vs cosine over 12 points = 2 layers × 3 heads × 2 positions (positions 1–2):');
    expect([0.0879, 8.5e-5, NaN, 0].map(formatP)).toEqual(['0.0879', '8.5e-5', 'undefined', '< 1e-300']);
  });

  it('lists the top-k heads by norm and by cosine as focusable rows, with details on focus', () => {
    const rows = [...svg.querySelectorAll('g.head-row')];
    expect(rows.length).toBe(6);
    expect(rows.every((r) => r.getAttribute('tabindex') === '0')).toBe(true);
    const first = rows.find((r) => r.getAttribute('data-table') === 'byNorm')!;
    const top = ALL.heads.top.byNorm[0];
    expect([...first.querySelectorAll('text')].map((t) => t.textContent)).toEqual(['1', String(top.layer), String(top.head), top.norm.toFixed(3), top.cosine.toFixed(3)]);
    const d = headsKind.details!(ALL, first)!;
    expect(d.title).toContain(`layer ${top.layer} head ${top.head} (#1 by norm`);
    expect(d.items.length).toBe(3);
    const dot = svg.querySelector('circle.point[data-point="0"]')!;
    expect(headsKind.details!(ALL, dot)!.title).toMatch(/^layer 0 head 0, position 0/);
  });

  it('renders token strings as text, never as markup; CSV has a line per (layer, head, position)', () => {
    expect(svg.querySelector('img')).toBeNull();
    const reparsed = parseHTML(`<!doctype html><html><body>${svg.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    expect(svg.outerHTML).toContain('&lt;img/src=x/onerror=alert(1)&gt;');
    const csv = headsKind.csv(LAST).trimEnd().split('\r\n');
    expect(csv[0]).toBe('layer,head,position,token,l2_norm,cosine,chosen');
    expect(csv.length).toBe(1 + 18);
    expect(csv.filter((l) => l.endsWith(',true')).length).toBe(12);
  });
});
