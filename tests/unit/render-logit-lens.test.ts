import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import type { LensCell } from '../../src/core/analysis/logit-lens.ts';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { cellTitle, lensSvgHeight, renderLogitLens } from '../../src/core/render/logit-lens-svg.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

const cell = (ids: number[], probs: number[], entropy: number, metrics: Partial<LensCell['metrics']> = {}, extra: Partial<LensCell> = {}): LensCell => ({
  ids,
  probs,
  entropy,
  metrics: { kl: null, attShare: null, ffShare: null, ...metrics },
  ...extra,
});

/** A hand-made 3-row × 3-position figure (embed, one block, final norm). */
export const SMALL_FIGURE: LogitLensFigureData = {
  kind: 'logit-lens',
  prompt: 'Once upon',
  grid: {
    rowLabels: ['embed', 'block 1', 'final norm'],
    rows: [0, 1, 2],
    nLayers: 1,
    vocabSize: 16,
    tied: true,
    inputIds: [1, 10, 11],
    pieces: { 1: '<s>', 10: '▁Once', 11: '▁upon', 12: '▁a', 13: '<0x0A>', 14: '<img/src=x/onerror=alert(1)>' },
    cells: [
      [cell([1, 10], [0.9, 0.05], 0.4), cell([10, 11], [0.3, 0.2], 2.1), cell([11, 12], [0.25, 0.2], 2.5)],
      [
        cell([10, 13], [0.5, 0.1], 1.2, { kl: 1.5, attShare: 0.2, ffShare: 0.35 }),
        cell([11, 14], [0.6, 0.3], 0.9, { kl: 0.25, attShare: 0.4, ffShare: 0.1 }),
        cell([12, 13], [0.7, 0.1], 0.8, { kl: 3, attShare: 0.05, ffShare: 0.6 }),
      ],
      [cell([10, 12], [0.97, 0.01], 0.1, { kl: 0.5 }), cell([14, 12], [0.88, 0.02], 0.3, { kl: 0.01 }), cell([12, 11], [0.999, 0.0004], 0.01, { kl: 0 })],
    ],
    settings: { state: 'block', decoder: 'output', norm: 'model', secondary: 'topk', k: 2 },
  },
  provenance: { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: { state: 'block', decoder: 'output', norm: 'model', secondary: 'topk', k: 2 } },
};

/** The same grid decoded by max-probability on an untied model, with iterative secondaries and two generated tokens. */
const winners: ('in' | 'out')[][] = [['in', 'in', 'out'], ['in', 'out', 'out'], ['out', 'out', 'out']];
export const MAXPROB_FIGURE: LogitLensFigureData = {
  ...SMALL_FIGURE,
  grid: {
    ...SMALL_FIGURE.grid,
    tied: false,
    promptLength: 1,
    cells: SMALL_FIGURE.grid.cells.map((row, r) =>
      row.map((c, t) => ({ ...c, winner: winners[r][t], secondary: { ids: [c.ids[0], 13], steps: [c.ids[0], 13, 13], norms: [2, 1.5, 1.6], winners: [winners[r][t], 'out', 'out'], stop: 'no-decrease' as const } })),
    ),
    settings: { ...SMALL_FIGURE.grid.settings, decoder: 'maxprob', secondary: 'iterative' },
  },
};

describe('logit-lens renderer', () => {
  const doc = staticDocument();
  const svg = renderLogitLens(SMALL_FIGURE, { document: doc });

  it('matches the committed SVG snapshots (default, maxprob with a generation boundary, coloured by entropy)', () => {
    for (const [name, out] of [
      ['logit-lens-small', svg],
      ['logit-lens-maxprob', renderLogitLens(MAXPROB_FIGURE, { document: doc })],
      ['logit-lens-entropy', renderLogitLens(SMALL_FIGURE, { document: doc }, { color: 'entropy' })],
    ] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('draws one focusable cell per (row, position), embedding at the bottom', () => {
    const cells = [...svg.querySelectorAll('g.cell')];
    expect(cells.length).toBe(9);
    expect(cells.every((c) => c.getAttribute('tabindex') === '0')).toBe(true);
    const yOf = (row: number) => Number(svg.querySelector(`g.cell[data-row="${row}"][data-pos="0"]`)!.getAttribute('transform')!.split(',')[1].replace(')', ''));
    expect(yOf(0)).toBeGreaterThan(yOf(2));
    expect(Number(svg.getAttribute('height'))).toBe(lensSvgHeight(3));
  });

  it('renders token strings as text, never as markup', () => {
    expect(svg.querySelector('img')).toBeNull();
    expect(svg.outerHTML).toContain('&lt;img/src=x/onerror=alert(1)&gt;');
    // The serialised HTML, parsed again as the browser will, holds no element from a token.
    const reparsed = parseHTML(`<!doctype html><html><body>${svg.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    expect(reparsed.querySelectorAll('g.cell').length).toBe(9);
  });

  it('lists the top-k with probabilities, shares and KL in each cell title', () => {
    expect(cellTitle(SMALL_FIGURE, 1, 1)).toBe(
      'block 1, position 1 (▁Once)\n1. ▁upon  60.0%\n2. <img/src=x/onerror=alert(1)>  30.0%\nentropy 0.90 nats\nattention share 40.0%, feed-forward share 10.0%\nKL to the row below 0.250 nats',
    );
    expect(cellTitle(SMALL_FIGURE, 0, 0)).toBe('embed, position 0 (<s>)\n1. <s>  90.0%\n2. ▁Once  5.0%\nentropy 0.40 nats');
    expect(cellTitle(MAXPROB_FIGURE, 0, 0)).toContain('decoded through W_E (input), the more confident\niterative: <s> + \\n (3 steps, stopped: ‖e‖ stopped decreasing)');
  });

  it('fills by the chosen metric; cells without a value are unfilled and dashed', () => {
    const fills = (color: 'prob' | 'entropy' | 'att-share' | 'ff-share' | 'kl') =>
      [...renderLogitLens(SMALL_FIGURE, { document: doc }, { color }).querySelectorAll('g.cell rect')].map((r) => Number(r.getAttribute('fill-opacity')));
    expect(fills('prob')).toEqual([0.9, 0.3, 0.25, 0.5, 0.6, 0.7, 0.97, 0.88, 0.999]);
    expect(fills('entropy')[0]).toBeCloseTo(0.4 / Math.log(16), 3);
    expect(fills('att-share')).toEqual([0, 0, 0, 0.2, 0.4, 0.05, 0, 0, 0]);
    expect(fills('ff-share').slice(3, 6)).toEqual([0.35, 0.1, 0.6]);
    expect(fills('kl')[3]).toBeCloseTo(1 - Math.exp(-1.5), 3);
    const att = renderLogitLens(SMALL_FIGURE, { document: doc }, { color: 'att-share' });
    expect(att.querySelectorAll('g.cell rect[stroke-dasharray]').length).toBe(6);
    expect(att.querySelector('g.cell[data-row="1"][data-pos="1"]')!.getAttribute('data-value')).toBe('0.400000');
    // The data's own colouring applies when no option overrides it.
    expect(renderLogitLens({ ...SMALL_FIGURE, color: 'kl' }, { document: doc }).getAttribute('data-color')).toBe('kl');
  });

  it('marks W_in winners, and draws the embedding, final and prompt/generation separators', () => {
    const mp = renderLogitLens(MAXPROB_FIGURE, { document: doc });
    expect(mp.querySelectorAll('path.winner-in').length).toBe(3);
    expect(mp.querySelectorAll('g.cell[data-winner="in"] path.winner-in').length).toBe(3);
    expect(mp.querySelectorAll('line.sep-embed, line.sep-final').length).toBe(2);
    const gen = mp.querySelector('line.sep-generated')!;
    expect(gen.getAttribute('x1')).toBe(String(78 + 66 - 0.5));
    expect(svg.querySelector('line.sep-generated')).toBeNull();
    expect(svg.querySelectorAll('path.winner-in').length).toBe(0);
  });

  it('a delta-state grid (rows 1..L only) has no embedding or final separators', () => {
    const attn: LogitLensFigureData = {
      ...SMALL_FIGURE,
      grid: { ...SMALL_FIGURE.grid, nLayers: 2, rows: [1, 2], rowLabels: ['attn 1', 'attn 2'], cells: SMALL_FIGURE.grid.cells.slice(0, 2), settings: { ...SMALL_FIGURE.grid.settings, state: 'attn' } },
    };
    const out = renderLogitLens(attn, { document: doc });
    expect(out.querySelectorAll('g.cell').length).toBe(6);
    expect(out.querySelectorAll('line.sep-embed, line.sep-final').length).toBe(0);
    expect(out.textContent).toContain('attention output δ_att');
  });
});
