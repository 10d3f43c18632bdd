/**
 * Renders the gradient map as SVG: one column per position, one row per state (the
 * embedding at the bottom, the residual stream flows up), each cell filled by
 * ‖∂L/∂h‖₂ on a log or linear scale and labelled with the value. Cells that no path links
 * to the target (later positions; the last block away from the target) are exactly 0 and
 * drawn unfilled and dashed. The target column is outlined and marked with its token. Each
 * cell's <title> carries its value, so hovering works without JavaScript; cells are
 * focusable for the page's details panel.
 */
import type { GradientFigureData, GradientScale } from '../figures/gradient-figure.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const CELL_W = 46, CELL_H = 20, LABEL_W = 84, HEAD_H = 30, MAX_CHARS = 7, CHAR_W = 6, FILL = '#dc2626', STEPS = 6;

/** Two significant digits, compact: 2.6, 0.41, 0.037, 1.2e-5. */
export function formatNorm(x: number): string {
  if (x === 0) return '0';
  if (x >= 1e-3 && x < 1e4) return String(Number(x.toPrecision(2)));
  return x.toExponential(1).replace('e+', 'e');
}

/** Maps a value to [0, 1] on the chosen scale over the positive values' range; null for 0. */
export function gradientScale(values: readonly number[], scale: GradientScale): { min: number; max: number; at: (x: number) => number | null } {
  const positive = values.filter((x) => x > 0 && Number.isFinite(x));
  const min = positive.length ? Math.min(...positive) : 0, max = positive.length ? Math.max(...positive) : 0;
  const at = (x: number): number | null => {
    if (!(x > 0) || max === 0) return null;
    if (scale === 'linear') return x / max;
    return max === min ? 1 : (Math.log(x) - Math.log(min)) / (Math.log(max) - Math.log(min));
  };
  return { min, max, at };
}

/** Fill opacity: the smallest non-zero value still shows faintly. */
const opacity = (v: number) => 0.06 + 0.94 * v;
const textColour = (v: number | null) => (v !== null && opacity(v) > 0.55 ? '#fff' : 'currentColor');

export function gradientCellTitle(data: GradientFigureData, row: number, pos: number): string {
  const r = data.rows[row];
  const x = r.values[pos];
  const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
  const lines = [`${r.label}, position ${pos} (${piece(data.inputIds[pos])})`, `‖∂L/∂h‖₂ = ${x === 0 ? '0 exactly: no path from this state to the target' : x.toPrecision(4)}`];
  const rowMax = Math.max(...r.values);
  if (x > 0 && rowMax > 0) lines.push(`${pct(x / rowMax)} of this row's largest`);
  lines.push(`L = logit of ${piece(data.target.tokenId)} at position ${data.target.position}`);
  return lines.join('\n');
}

export function targetText(data: GradientFigureData): string {
  const t = data.target;
  const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
  return `target L = logit of ${piece(t.tokenId)} at position ${t.position} (after ${piece(data.inputIds[t.position])}) = ${t.logit.toFixed(2)}${t.argmax ? ', the model\'s top prediction' : ''}`;
}

export function renderGradient(data: GradientFigureData, { document }: RenderContext, opts: { scale?: GradientScale } = {}): SVGSVGElement {
  const scaleName = opts.scale ?? data.scale;
  const rows = data.rows.length, T = data.inputIds.length;
  const s = gradientScale(data.rows.flatMap((r) => r.values), scaleName);
  const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
  const gridTop = HEAD_H, gridBottom = HEAD_H + rows * CELL_H;
  const low = scaleName === 'linear' ? 0 : s.min; // the legend's left end: a linear scale starts at 0
  const captions = [
    targetText(data),
    `fill = ‖∂L/∂h‖₂ of each state h, ${scaleName} scale from ${formatNorm(low)} to ${formatNorm(s.max)}; dashed: exactly 0 (no path to the target)`,
  ];
  const gridRight = LABEL_W + T * CELL_W;
  const legendY = gridBottom + 24;
  const captionY = legendY + 44;
  const width = Math.max(gridRight + 8, LABEL_W + Math.ceil(Math.max(...captions.map((c) => c.length)) * CHAR_W));
  const height = captionY + captions.length * 14 + 4;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'gradient-map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'data-scale': scaleName, 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Gradient map of "${clip(data.prompt, 60)}": ‖∂L/∂h‖₂ per state and position for the logit of ${piece(data.target.tokenId)} at position ${data.target.position}, ${data.provenance.model.name}`));
  const y = (row: number) => gridTop + (rows - 1 - row) * CELL_H; // row 0 (the embedding) at the bottom

  for (let r = 0; r < rows; r++) {
    const row = data.rows[r];
    svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: y(r) + CELL_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', class: `row-label row-${row.state}`, 'fill-opacity': row.state === 'mid' ? 0.7 : 1 }, row.label));
    for (let t = 0; t < T; t++) {
      const x = row.values[t];
      const v = s.at(x);
      const g = svgEl(document, 'g', { class: 'cell', tabindex: 0, 'data-row': r, 'data-pos': t, 'data-state': row.state, 'data-value': x.toPrecision(6), transform: `translate(${LABEL_W + t * CELL_W},${y(r)})` });
      g.append(svgEl(document, 'title', {}, gradientCellTitle(data, r, t)));
      const rect: Record<string, string | number> = { width: CELL_W - 1, height: CELL_H - 1, fill: FILL, 'fill-opacity': v === null ? 0 : opacity(v).toFixed(3), stroke: 'currentColor', 'stroke-opacity': 0.12 };
      if (v === null) Object.assign(rect, { 'stroke-dasharray': '2 2', 'stroke-opacity': 0.3 });
      g.append(svgEl(document, 'rect', rect));
      if (v !== null) g.append(svgEl(document, 'text', { x: CELL_W / 2, y: CELL_H / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'font-size': 10, fill: textColour(v) }, formatNorm(x)));
      svg.append(g);
    }
  }

  // The target: its column outlined, its token above.
  const tx = LABEL_W + data.target.position * CELL_W;
  svg.append(svgEl(document, 'rect', { class: 'target-column', x: tx - 1, y: gridTop - 1, width: CELL_W + 1, height: rows * CELL_H + 1, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }));
  const marker = svgEl(document, 'g', { class: 'target', tabindex: 0, transform: `translate(${tx + CELL_W / 2},${gridTop - 6})` });
  marker.append(svgEl(document, 'title', {}, `${targetText(data)}\nthe model's top predictions here: ${data.predictions.map((p) => `${piece(p.id)} ${pct(p.p)}`).join(', ')}`));
  marker.append(svgEl(document, 'text', { 'text-anchor': 'middle', 'font-weight': 600 }, `▼ ${clip(piece(data.target.tokenId), MAX_CHARS + 2)}`));
  svg.append(marker);

  // Input tokens under their columns.
  data.inputIds.forEach((id, t) => {
    svg.append(svgEl(document, 'text', { x: LABEL_W + t * CELL_W + CELL_W / 2, y: gridBottom + 14, 'text-anchor': 'middle', class: 'input-token', 'font-weight': t === data.target.position ? 600 : 400 }, clip(piece(id), MAX_CHARS)));
  });
  svg.append(svgEl(document, 'text', { x: LABEL_W - 6, y: gridBottom + 14, 'text-anchor': 'end', class: 'row-label' }, 'input'));

  // Legend: discrete steps (no gradient ids that could clash between figures on one page).
  const legend = svgEl(document, 'g', { class: 'legend', transform: `translate(${LABEL_W},${legendY})` });
  const SW = 24;
  for (let i = 0; i < STEPS; i++) legend.append(svgEl(document, 'rect', { x: i * SW, width: SW, height: 10, fill: FILL, 'fill-opacity': opacity(i / (STEPS - 1)).toFixed(3) }));
  legend.append(svgEl(document, 'text', { x: 0, y: 22, 'font-size': 10 }, formatNorm(low)));
  legend.append(svgEl(document, 'text', { x: STEPS * SW, y: 22, 'font-size': 10, 'text-anchor': 'end' }, formatNorm(s.max)));
  legend.append(svgEl(document, 'text', { x: STEPS * SW + 8, y: 9, 'font-size': 10 }, `‖∂L/∂h‖₂ (${scaleName})`));
  svg.append(legend);
  captions.forEach((text, i) => svg.append(svgEl(document, 'text', { x: LABEL_W, y: captionY + 14 * i, class: 'caption', 'fill-opacity': i === 0 ? 1 : 0.7 }, text)));
  return svg;
}
