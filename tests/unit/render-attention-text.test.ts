/**
 * The attention-as-text renderer (src/core/render/attention-text-svg.ts) on hand-made
 * patterns (2 heads, 6 positions): committed SVG snapshots, background and bar from the
 * analysis's shade and width, the query marked, later tokens dimmed, wrapping at the figure
 * width and at a newline token, tokens clickable as the new query, text never markup.
 */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { type AttentionTextOptions, computeAttentionText } from '../../src/core/analysis/attention-text.ts';
import type { HookMap } from '../../src/core/engine/hooked-model.ts';
import { attentionTextKind, type AttentionTextFigureData } from '../../src/core/figures/kinds/attention-text.ts';
import { renderAttentionText } from '../../src/core/render/attention-text-svg.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

const TOKENS = [
  { id: 1, text: '<s>' },
  { id: 20, text: '▁Tom' },
  { id: 21, text: '▁saw' },
  { id: 13, text: '<0x0A>' },
  { id: 22, text: '<img/src=x/onerror=alert(1)>' },
  { id: 23, text: 'dog' },
];
/** Causal rows per head, each summing to 1. */
const HEAD0 = [
  [1, 0, 0, 0, 0, 0],
  [0.5, 0.5, 0, 0, 0, 0],
  [0.2, 0.3, 0.5, 0, 0, 0],
  [0.1, 0.1, 0.2, 0.6, 0, 0],
  [0.1, 0.4, 0.1, 0.1, 0.3, 0],
  [0.05, 0.5, 0.1, 0.05, 0.1, 0.2],
];
const HEAD1 = [
  [1, 0, 0, 0, 0, 0],
  [0.9, 0.1, 0, 0, 0, 0],
  [0.6, 0.2, 0.2, 0, 0, 0],
  [0.4, 0.2, 0.2, 0.2, 0, 0],
  [0.3, 0.1, 0.3, 0.1, 0.2, 0],
  [0.25, 0.05, 0.4, 0.1, 0.1, 0.1],
];
const hooks: HookMap = new Map([['blocks.0.attn.hook_pattern', { data: Float32Array.from([...HEAD0.flat(), ...HEAD1.flat()]), dims: [2, 6, 6] }]]);
const PROVENANCE = { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: {} };

const figure = (options: AttentionTextOptions, width = 640): AttentionTextFigureData => ({
  kind: 'attention-text',
  prompt: 'Tom saw',
  attention: computeAttentionText(hooks, { n_layers: 1, n_heads: 2 }, TOKENS, options),
  nLayers: 1,
  nHeads: 2,
  contextLength: 512,
  width,
  provenance: PROVENANCE,
});

const AVERAGE = figure({ layer: 0, head: 'average', query: 5 });
const HEAD_1 = figure({ layer: 0, head: 1, query: 2, threshold: 0.25, minWidth: 2, maxWidth: 10 }, 240);

describe('attention-text renderer', () => {
  const doc = staticDocument();
  const svg = renderAttentionText(AVERAGE, { document: doc });
  const tokens = (s: SVGSVGElement) => [...s.querySelectorAll('g.token')];

  it('matches the committed SVG snapshots (mean over heads; one head with a threshold, wrapped narrow)', () => {
    for (const [name, out] of [
      ['attention-text-average', svg],
      ['attention-text-head', renderAttentionText(HEAD_1, { document: doc })],
    ] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('shades each token by the analysis: background opacity 0.75·shade, a bar of the given width', () => {
    const gs = tokens(svg);
    expect(gs.length).toBe(6);
    gs.forEach((g, t) => {
      const a = AVERAGE.attention.tokens[t];
      expect(Number(g.querySelector('rect')!.getAttribute('fill-opacity'))).toBeCloseTo(0.75 * a.shade, 3);
      const bar = g.querySelector('rect.bar');
      if (a.width > 0) expect(Number(bar!.getAttribute('height'))).toBeCloseTo(a.width, 2);
      else expect(bar).toBeNull();
    });
    // Mean over heads at the query 5: key 1 gets (0.5 + 0.05) / 2 = 0.275, the largest: fully shaded.
    expect(Number(gs[1].getAttribute('data-weight'))).toBeCloseTo(0.275, 6);
    expect(Number(gs[1].querySelector('rect')!.getAttribute('fill-opacity'))).toBeCloseTo(0.75, 6);
    // Head 1 at query 2 with threshold 0.25: keys 0 (0.6) shaded fully, 1 and 2 (0.2) not shaded.
    const h = tokens(renderAttentionText(HEAD_1, { document: doc }));
    expect(h.map((g) => Number(g.querySelector('rect')!.getAttribute('fill-opacity')))).toEqual([0.75, 0, 0, 0, 0, 0]);
    expect(Number(h[0].querySelector('rect.bar')!.getAttribute('height'))).toBe(10);
  });

  it('marks the query (outlined, bold) and dims the tokens it cannot see', () => {
    const h = renderAttentionText(HEAD_1, { document: doc });
    const q = h.querySelector('g.token.query')!;
    expect(q.getAttribute('data-pos')).toBe('2');
    expect(q.querySelector('rect')!.getAttribute('stroke')).toBe('currentColor');
    expect(q.querySelector('text')!.getAttribute('font-weight')).toBe('700');
    const dimmed = tokens(h).filter((g) => g.querySelector('text')!.getAttribute('fill-opacity') === '0.45').map((g) => g.getAttribute('data-pos'));
    expect(dimmed).toEqual(['0', '3', '4', '5']); // BOS, and everything after the query
  });

  it('wraps at the figure width and after a newline token; a word start is a gap, not text', () => {
    const y = (s: SVGSVGElement) => tokens(s).map((g) => Number(/,(\d+)\)/.exec(g.getAttribute('transform')!)![1]));
    const wide = y(svg);
    expect(wide.slice(0, 4).every((v) => v === wide[0])).toBe(true);
    expect(wide[4]).toBeGreaterThan(wide[3]); // the token after "\n" starts a new line
    const narrow = y(renderAttentionText(HEAD_1, { document: doc }));
    expect(new Set(narrow).size).toBeGreaterThan(new Set(wide).size);
    for (const g of tokens(renderAttentionText(HEAD_1, { document: doc }))) {
      const x = Number(/translate\(([\d.]+),/.exec(g.getAttribute('transform')!)![1]);
      expect(x + Number(g.querySelector('rect')!.getAttribute('width'))).toBeLessThanOrEqual(240 - 8 + 1e-9);
    }
    expect(tokens(svg).map((g) => g.querySelector('text')!.textContent)).toEqual(['<s>', 'Tom', 'saw', '↵', '<img/src=x/onerror=aler…', 'dog']);
  });

  it('makes each token a focusable way to choose the query, with details', () => {
    const g = tokens(svg)[2];
    expect(g.getAttribute('tabindex')).toBe('0');
    expect(JSON.parse(g.getAttribute('data-set-controls')!)).toEqual({ query: 2 });
    const d = attentionTextKind.details!(AVERAGE, g)!;
    expect(d.title).toBe('block 0 (blocks.0), mean over 2 heads: position 2 (▁saw): weight 0.2500 (25.0%) · click or press Enter to make it the query, then Run');
    expect(d.items[0]).toBe('▁Tom (position 1) — 27.5%');
  });

  it('renders token strings as text, never as markup; CSV has a line per token', () => {
    expect(svg.querySelector('img')).toBeNull();
    const reparsed = parseHTML(`<!doctype html><html><body>${svg.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    const csv = attentionTextKind.csv(AVERAGE).trimEnd().split('\r\n');
    expect(csv[0]).toBe('position,token_id,token,weight,shade,bar_width_px,is_query');
    expect(csv.length).toBe(7);
    expect(csv[6]).toMatch(/^5,23,dog,0\.15\d*,/);
  });
});
