import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { cellTitle, renderLogitLens } from '../../src/core/render/logit-lens-svg.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

/** A hand-made 3-row × 3-position figure (embed, one block, final norm). */
export const SMALL_FIGURE: LogitLensFigureData = {
  kind: 'logit-lens',
  prompt: 'Once upon',
  grid: {
    rowLabels: ['embed', 'block 1', 'final norm'],
    inputIds: [1, 10, 11],
    pieces: { 1: '<s>', 10: '▁Once', 11: '▁upon', 12: '▁a', 13: '<0x0A>', 14: '<img/src=x/onerror=alert(1)>' },
    cells: [
      [
        { ids: [1, 10], probs: [0.9, 0.05], entropy: 0.4 },
        { ids: [10, 11], probs: [0.3, 0.2], entropy: 2.1 },
        { ids: [11, 12], probs: [0.25, 0.2], entropy: 2.5 },
      ],
      [
        { ids: [10, 13], probs: [0.5, 0.1], entropy: 1.2 },
        { ids: [11, 14], probs: [0.6, 0.3], entropy: 0.9 },
        { ids: [12, 13], probs: [0.7, 0.1], entropy: 0.8 },
      ],
      [
        { ids: [10, 12], probs: [0.97, 0.01], entropy: 0.1 },
        { ids: [14, 12], probs: [0.88, 0.02], entropy: 0.3 },
        { ids: [12, 11], probs: [0.999, 0.0004], entropy: 0.01 },
      ],
    ],
    settings: { decoder: 'output', norm: 'model', k: 2 },
  },
  provenance: { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: { decoder: 'output', norm: 'model', k: 2 } },
};

describe('logit-lens renderer', () => {
  const svg = renderLogitLens(SMALL_FIGURE, { document: staticDocument() });

  it('matches the committed SVG snapshot', () => {
    const r = matchSvgSnapshot('logit-lens-small', svg.outerHTML);
    expect(r.ok, r.message).toBe(true);
  });

  it('draws one focusable cell per (row, position), embedding at the bottom', () => {
    const cells = [...svg.querySelectorAll('g.cell')];
    expect(cells.length).toBe(9);
    expect(cells.every((c) => c.getAttribute('tabindex') === '0')).toBe(true);
    const yOf = (row: number) => Number(svg.querySelector(`g.cell[data-row="${row}"][data-pos="0"]`)!.getAttribute('transform')!.split(',')[1].replace(')', ''));
    expect(yOf(0)).toBeGreaterThan(yOf(2));
  });

  it('renders token strings as text, never as markup', () => {
    expect(svg.querySelector('img')).toBeNull();
    expect(svg.outerHTML).toContain('&lt;img/src=x/onerror=alert(1)&gt;');
    // The serialised HTML, parsed again as the browser will, holds no element from a token.
    const reparsed = parseHTML(`<!doctype html><html><body>${svg.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    expect(reparsed.querySelectorAll('g.cell').length).toBe(9);
  });

  it('lists the top-k with probabilities in each cell title', () => {
    expect(cellTitle(SMALL_FIGURE, 1, 1)).toBe('block 1, position 1 (▁Once)\n1. ▁upon  60.0%\n2. <img/src=x/onerror=alert(1)>  30.0%\nentropy 0.90 nats');
  });
});
