/**
 * Renders the logit-lens grid as SVG: one column per position, one row per decoded state,
 * the lowest row at the bottom (the residual stream flows up). Each cell shows the top-1
 * token, filled by the chosen metric (top-1 probability, entropy, attention or feed-forward
 * share, KL to the row below); its <title> lists the top-k, the iterative-subtraction tokens
 * and the metrics, so hovering works even without JavaScript. Cells are focusable; the
 * page's script shows the same list in a panel on focus. Max-probability grids mark cells
 * where W_in won with a corner triangle. Lines separate the embedding and final-norm rows,
 * and the prompt from generated tokens when the data says where that boundary is.
 */
import type { LensCell } from '../analysis/logit-lens.ts';
import type { LensColor, LogitLensFigureData } from '../figures/logit-lens-figure.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const CELL_W = 66, CELL_H = 24, LABEL_W = 78, FOOT_H = 54, HEAD_H = 8, MAX_CHARS = 8, MARK = 8, CHAR_W = 6;

/** Height of the SVG for a grid of `rows` rows (for placeholders that must not shift). */
export const lensSvgHeight = (rows: number): number => HEAD_H + rows * CELL_H + FOOT_H;

export interface LensRenderOptions {
  /** Overrides the data's `color`. */
  color?: LensColor;
}

interface Scale {
  fill: string;
  /** Fill opacity in [0, 1] for a cell, or null when the metric does not exist there. */
  value: (cell: LensCell, vocabSize: number) => number | null;
  legend: string;
}

const SCALES: Record<LensColor, Scale> = {
  prob: { fill: '#2563eb', value: (c) => c.probs[0], legend: 'fill = top-1 probability' },
  entropy: { fill: '#ea580c', value: (c, V) => c.entropy / Math.log(V), legend: 'fill = entropy / ln V (darker: less certain)' },
  'att-share': { fill: '#7c3aed', value: (c) => c.metrics.attShare, legend: 'fill = attention share ‖δ_att‖/(‖x^(ℓ−1)‖+‖δ_att‖)' },
  'ff-share': { fill: '#059669', value: (c) => c.metrics.ffShare, legend: 'fill = feed-forward share ‖δ_ff‖/(‖x′^(ℓ)‖+‖δ_ff‖)' },
  kl: { fill: '#db2777', value: (c) => (c.metrics.kl === null ? null : 1 - Math.exp(-c.metrics.kl)), legend: 'fill = 1 − exp(−KL(P_r ‖ P_r−1))' },
};

const STATE_TEXT = { block: 'block output', intermediate: 'intermediate state x′', attn: 'attention output δ_att', ffn: 'feed-forward output δ_ff', diff: 'layer difference x^(ℓ) − x^(ℓ−1)' } as const;
const DECODER_TEXT = { output: 'W_U', input: 'W_E', linear: '(1−a)·W_E + a·W_U, a = r/(L+1)', quadratic: '(1−a²)·W_E + a²·W_U, a = r/(L+1)', maxprob: 'W_E or W_U, whichever is more confident' } as const;
const STOP_TEXT = { 'max-steps': 'after 5 steps', small: '‖e‖ ≤ 0.01', 'no-decrease': '‖e‖ stopped decreasing' } as const;

/** Text on a cell must stay readable on its fill: white once the fill is dark enough. */
const textColour = (v: number | null) => (v !== null && v > 0.55 ? '#fff' : 'currentColor');
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export function cellTitle(data: LogitLensFigureData, row: number, pos: number): string {
  const { grid } = data;
  const cell = grid.cells[row][pos];
  const piece = (id: number) => displayPiece(grid.pieces[id]);
  const lines = [`${grid.rowLabels[row]}, position ${pos} (${piece(grid.inputIds[pos])})`];
  cell.ids.forEach((id, i) => lines.push(`${i + 1}. ${piece(id)}  ${pct(cell.probs[i])}`));
  lines.push(`entropy ${cell.entropy.toFixed(2)} nats`);
  if (cell.winner) lines.push(`decoded through ${cell.winner === 'in' ? 'W_E (input)' : 'W_U (output)'}${grid.tied ? ', tied: the same matrix' : ', the more confident'}`);
  const s = cell.secondary;
  if (s) lines.push(`iterative: ${s.ids.map(piece).join(' + ')} (${s.steps.length} step${s.steps.length === 1 ? '' : 's'}, stopped: ${STOP_TEXT[s.stop]})`);
  const m = cell.metrics;
  if (m.attShare !== null && m.ffShare !== null) lines.push(`attention share ${pct(m.attShare)}, feed-forward share ${pct(m.ffShare)}`);
  if (m.kl !== null) lines.push(`KL to the row below ${m.kl.toFixed(3)} nats`);
  return lines.join('\n');
}

export function renderLogitLens(data: LogitLensFigureData, { document }: RenderContext, opts: LensRenderOptions = {}): SVGSVGElement {
  const { grid } = data;
  const color = opts.color ?? data.color ?? 'prob';
  const scale = SCALES[color];
  const rows = grid.cells.length, T = grid.inputIds.length;
  const pl = grid.promptLength;
  const boundary = pl !== undefined && pl > 0 && pl < T;
  const st = grid.settings;
  const through = DECODER_TEXT[st.decoder] + (grid.tied && st.decoder !== 'output' ? ' (tied: W_E = W_U)' : '');
  const captions = [`cell: top-1 token of the ${STATE_TEXT[st.state]} decoded through ${through} (norm: ${st.norm})`, scale.legend];
  if (grid.cells.some((row) => row.some((c) => c.winner === 'in'))) captions[1] += '; ◤ W_E won';
  if (boundary) captions[1] += '; dashed line: generated tokens to the right';
  // Wide enough for the captions too (estimated at CHAR_W per character: SVG text does not wrap).
  const gridRight = LABEL_W + T * CELL_W;
  const width = Math.max(gridRight, LABEL_W + Math.ceil(Math.max(...captions.map((c) => c.length)) * CHAR_W)), height = lensSvgHeight(rows);
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'logit-lens', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'data-color': color, 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Logit lens of "${clip(data.prompt, 60)}": top-1 token per layer and position, ${data.provenance.model.name}`));
  const y = (row: number) => HEAD_H + (rows - 1 - row) * CELL_H; // grid row 0 at the bottom

  for (let r = 0; r < rows; r++) {
    svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: y(r) + CELL_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', class: 'row-label' }, grid.rowLabels[r]));
    for (let t = 0; t < T; t++) {
      const cell = grid.cells[r][t];
      const top = displayPiece(grid.pieces[cell.ids[0]]);
      const raw = scale.value(cell, grid.vocabSize);
      const v = raw === null || !Number.isFinite(raw) ? null : clamp01(raw);
      const attrs: Record<string, string | number> = { class: 'cell', tabindex: 0, 'data-row': r, 'data-pos': t, 'data-top': top, 'data-p': cell.probs[0].toFixed(6) };
      if (v !== null) attrs['data-value'] = raw!.toFixed(6);
      if (cell.winner) attrs['data-winner'] = cell.winner;
      const g = svgEl(document, 'g', { ...attrs, transform: `translate(${LABEL_W + t * CELL_W},${y(r)})` });
      g.append(svgEl(document, 'title', {}, cellTitle(data, r, t)));
      const rect: Record<string, string | number> = { width: CELL_W - 1, height: CELL_H - 1, fill: scale.fill, 'fill-opacity': v === null ? 0 : v.toFixed(3), stroke: 'currentColor', 'stroke-opacity': 0.12 };
      if (v === null) Object.assign(rect, { 'stroke-dasharray': '2 2', 'stroke-opacity': 0.3 }); // no value here (e.g. a share on the embedding row)
      g.append(svgEl(document, 'rect', rect));
      if (cell.winner === 'in') g.append(svgEl(document, 'path', { class: 'winner-in', d: `M0 0h${MARK}L0 ${MARK}z`, fill: '#f59e0b' }));
      g.append(svgEl(document, 'text', { x: CELL_W / 2, y: CELL_H / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: textColour(v) }, clip(top, MAX_CHARS)));
      svg.append(g);
    }
  }
  // Separators: above the embedding row and below the final-norm row, where the grid has them.
  const line = (a: Record<string, number | string>) => svg.append(svgEl(document, 'line', { stroke: 'currentColor', 'stroke-width': 1.5, ...a }));
  const first = grid.rows.indexOf(0), last = grid.rows.indexOf(grid.nLayers + 1);
  if (first >= 0 && rows > 1) line({ class: 'sep-embed', x1: LABEL_W, x2: gridRight, y1: y(first) - 0.5, y2: y(first) - 0.5 });
  if (last >= 0 && rows > 1) line({ class: 'sep-final', x1: LABEL_W, x2: gridRight, y1: y(last) + CELL_H - 0.5, y2: y(last) + CELL_H - 0.5 });
  if (boundary) {
    const x = LABEL_W + pl * CELL_W - 0.5;
    line({ class: 'sep-generated', x1: x, x2: x, y1: HEAD_H, y2: HEAD_H + rows * CELL_H + 20, 'stroke-dasharray': '4 3' });
  }
  // Input tokens under their columns.
  grid.inputIds.forEach((id, t) => {
    svg.append(svgEl(document, 'text', { x: LABEL_W + t * CELL_W + CELL_W / 2, y: HEAD_H + rows * CELL_H + 14, 'text-anchor': 'middle', class: 'input-token' }, clip(displayPiece(grid.pieces[id]), MAX_CHARS)));
  });
  svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: HEAD_H + rows * CELL_H + 14, 'text-anchor': 'end', class: 'row-label' }, 'input'));
  captions.forEach((text, i) => svg.append(svgEl(document, 'text', { x: LABEL_W, y: HEAD_H + rows * CELL_H + 32 + 14 * i, class: 'caption', 'fill-opacity': 0.7 }, text)));
  return svg;
}
