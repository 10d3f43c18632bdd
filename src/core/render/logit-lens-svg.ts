/**
 * Renders the logit-lens grid as SVG: one column per position, one row per decoded state,
 * the embedding at the bottom and the final norm at the top (the residual stream flows up).
 * Each cell shows the top-1 token, filled by its probability; its <title> lists the top-k,
 * so hovering works even without JavaScript. Cells are focusable; the page's script shows
 * the same list in a panel on focus.
 */
import type { LogitLensFigureData } from '../figures/logit-lens-figure.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const CELL_W = 66, CELL_H = 24, LABEL_W = 78, FOOT_H = 40, HEAD_H = 8, MAX_CHARS = 8;

/** Text on a cell must stay readable on its fill: white once the fill is dark enough. */
const textColour = (p: number) => (p > 0.55 ? '#fff' : 'currentColor');

export function cellTitle(data: LogitLensFigureData, row: number, pos: number): string {
  const { grid } = data;
  const cell = grid.cells[row][pos];
  const input = displayPiece(grid.pieces[grid.inputIds[pos]]);
  const lines = cell.ids.map((id, i) => `${i + 1}. ${displayPiece(grid.pieces[id])}  ${pct(cell.probs[i])}`);
  return `${grid.rowLabels[row]}, position ${pos} (${input})\n${lines.join('\n')}\nentropy ${cell.entropy.toFixed(2)} nats`;
}

export function renderLogitLens(data: LogitLensFigureData, { document }: RenderContext): SVGSVGElement {
  const { grid } = data;
  const rows = grid.cells.length, T = grid.inputIds.length;
  const width = LABEL_W + T * CELL_W, height = HEAD_H + rows * CELL_H + FOOT_H;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'logit-lens', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Logit lens of "${clip(data.prompt, 60)}": top-1 token per layer and position, ${data.provenance.model.name}`));
  const y = (row: number) => HEAD_H + (rows - 1 - row) * CELL_H; // row 0 (embedding) at the bottom

  for (let r = 0; r < rows; r++) {
    svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: y(r) + CELL_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', class: 'row-label' }, grid.rowLabels[r]));
    for (let t = 0; t < T; t++) {
      const cell = grid.cells[r][t];
      const top = displayPiece(grid.pieces[cell.ids[0]]);
      const g = svgEl(document, 'g', { class: 'cell', tabindex: 0, 'data-row': r, 'data-pos': t, 'data-top': top, 'data-p': cell.probs[0].toFixed(6), transform: `translate(${LABEL_W + t * CELL_W},${y(r)})` });
      g.append(svgEl(document, 'title', {}, cellTitle(data, r, t)));
      g.append(svgEl(document, 'rect', { width: CELL_W - 1, height: CELL_H - 1, fill: '#2563eb', 'fill-opacity': cell.probs[0].toFixed(3), stroke: 'currentColor', 'stroke-opacity': 0.12 }));
      g.append(svgEl(document, 'text', { x: CELL_W / 2, y: CELL_H / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: textColour(cell.probs[0]) }, clip(top, MAX_CHARS)));
      svg.append(g);
    }
  }
  // Separators: above the embedding row and below the final-norm row.
  for (const yy of [y(0) - 0.5, y(rows - 1) + CELL_H - 0.5]) {
    svg.append(svgEl(document, 'line', { x1: LABEL_W, x2: width, y1: yy, y2: yy, stroke: 'currentColor', 'stroke-width': 1.5 }));
  }
  // Input tokens under their columns.
  grid.inputIds.forEach((id, t) => {
    svg.append(svgEl(document, 'text', { x: LABEL_W + t * CELL_W + CELL_W / 2, y: HEAD_H + rows * CELL_H + 14, 'text-anchor': 'middle', class: 'input-token' }, clip(displayPiece(grid.pieces[id]), MAX_CHARS)));
  });
  svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: HEAD_H + rows * CELL_H + 14, 'text-anchor': 'end', class: 'row-label' }, 'input'));
  svg.append(svgEl(document, 'text', { x: LABEL_W, y: HEAD_H + rows * CELL_H + 32, class: 'caption', 'fill-opacity': 0.7 }, `cell: top-1 next-token guess decoded through W_U (norm: ${data.provenance.settings.norm}); fill = its probability`));
  return svg;
}
