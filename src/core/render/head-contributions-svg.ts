/**
 * Renders per-head contributions (analysis/head-contributions.ts, methods.md §4) as one SVG:
 * an Observable Plot scatter of cosine(δ_att^(ℓ,h), δ_att^(ℓ)) (x) against ‖δ_att^(ℓ,h)‖₂ (y),
 * one dot per (layer, head, chosen position), coloured by layer; under it the correlations
 * between the two measures (Pearson, Spearman, Kendall with p-values) and two top-k tables
 * (heads by mean norm, by mean cosine) as text rows, so SVG and PNG exports hold everything.
 * Plot gets the `document` too (Plot.plot({document})), so this runs at build time in
 * linkedom and live in the page; Plot's marks are moved into this figure's own <svg>.
 */
import * as Plot from '@observablehq/plot';
import type { HeadRank } from '../analysis/head-contributions.ts';
import type { CorrelationTest } from '../analysis/stats.ts';
import type { HeadsFigureData } from '../figures/kinds/heads.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, type RenderContext, svgEl } from './svg.ts';

const W = 600, PLOT_H = 340, LINE_H = 15, ROW_H = 16, MARGIN = 50;

export interface HeadPoint {
  layer: number;
  head: number;
  position: number;
  norm: number;
  cosine: number;
}

/** Every (layer, head, chosen position) as a point, layer by layer. */
export function headPoints(data: HeadsFigureData): HeadPoint[] {
  const { heads } = data, out: HeadPoint[] = [];
  for (let l = 0; l < heads.nLayers; l++) for (const t of heads.chosen) for (let h = 0; h < heads.nHeads; h++) out.push({ layer: l, head: h, position: t, norm: heads.norm[l][t][h], cosine: heads.cosine[l][t][h] });
  return out;
}

export const pointTitle = (data: HeadsFigureData, p: HeadPoint): string =>
  `layer ${p.layer} head ${p.head}, position ${p.position} (${displayPiece(data.tokens[p.position])}): L2 norm ${p.norm.toFixed(3)}, cosine ${p.cosine.toFixed(3)}`;

/** p-values as a reader expects them: 0.0879, 8.5e-5, and "undefined" when the test is. */
export const formatP = (p: number): string => (Number.isNaN(p) ? 'undefined' : p === 0 ? '< 1e-300' : p < 1e-3 ? p.toExponential(1) : p.toPrecision(3));
const stat = (name: string, t: CorrelationTest) => `${name} = ${Number.isNaN(t.statistic) ? 'undefined' : t.statistic.toFixed(3)} (p = ${formatP(t.pValue)})`;

export function correlationCaption(data: HeadsFigureData): string[] {
  const { correlation: c, chosen, nLayers, nHeads } = data.heads;
  const span = chosen.length === 1 ? `position ${chosen[0]}` : `positions ${chosen[0]}–${chosen.at(-1)}`;
  return [
    `L2 norm vs cosine over ${c.pearson.n} points = ${nLayers} layers × ${nHeads} heads × ${chosen.length} position${chosen.length === 1 ? '' : 's'} (${span}):`,
    `${stat('Pearson r', c.pearson)} · ${stat('Spearman ρ', c.spearman)}`,
    `${stat('Kendall τ-b', c.kendall)}, ${c.kendall.method === 'exact' ? 'exact null distribution' : 'normal approximation'}`,
  ];
}

export function renderHeadContributions(data: HeadsFigureData, { document }: RenderContext): SVGSVGElement {
  const { heads } = data;
  const points = headPoints(data);
  const layers = Array.from({ length: heads.nLayers }, (_, l) => l);
  const plot = Plot.plot({
    document,
    width: W,
    height: PLOT_H,
    marginLeft: MARGIN,
    x: { label: 'cosine to the attention output →', nice: true },
    y: { label: '↑ L2 norm of the head’s output', grid: true, nice: true },
    color: { type: 'ordinal', domain: layers, scheme: heads.nLayers <= 10 ? 'observable10' : 'turbo' },
    marks: [
      Plot.ruleX([0], { strokeOpacity: 0.3 }),
      Plot.dot(points, {
        x: 'cosine',
        y: 'norm',
        fill: 'layer',
        r: 3,
        fillOpacity: 0.75,
        title: (p: HeadPoint) => pointTitle(data, p),
        // Tag each circle with its point, for the details panel (Plot keeps the index order).
        render(index, scales, values, dimensions, context, next) {
          const g = next!(index, scales, values, dimensions, context)!;
          const circles = g.querySelectorAll('circle');
          index.forEach((i, k) => {
            const p = points[i];
            circles[k].setAttribute('class', 'point');
            circles[k].setAttribute('data-point', String(i));
            circles[k].setAttribute('data-layer', String(p.layer));
          });
          return g;
        },
      }),
    ],
  }) as unknown as SVGSVGElement & Plot.Plot;
  const color = plot.scale('color')!;

  const captions = correlationCaption(data);
  const k = heads.top.byNorm.length;
  const tableTop = PLOT_H + 28 + captions.length * LINE_H + 10;
  const height = tableTop + LINE_H + (k + 1) * ROW_H + 8;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'head-contributions', width: W, height, viewBox: `0 0 ${W} ${height}`, role: 'group', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Per-head contributions in ${data.provenance.model.name} for "${clip(data.prompt, 60)}": L2 norm against cosine, ${captions[1]}`));
  // Plot's marks, in a group carrying the attributes Plot set on its own root (its <style> is dropped: the page styles the figure).
  const marks = svgEl(document, 'g', { class: 'plot' });
  for (const name of ['fill', 'font-family', 'font-size', 'text-anchor']) if (plot.hasAttribute(name)) marks.setAttribute(name, plot.getAttribute(name)!);
  for (const child of [...plot.childNodes]) if ((child as Element).tagName?.toLowerCase() !== 'style') marks.append(child);
  svg.append(marks);

  // Colour legend: a swatch per layer.
  let x = MARGIN;
  svg.append(svgEl(document, 'text', { x, y: PLOT_H + 14, class: 'legend' }, 'layer'));
  x += 34;
  for (const l of layers) {
    svg.append(svgEl(document, 'circle', { class: 'legend-swatch', cx: x + 4, cy: PLOT_H + 10, r: 4, fill: String(color.apply!(l)) }));
    svg.append(svgEl(document, 'text', { x: x + 11, y: PLOT_H + 14, class: 'legend' }, String(l)));
    x += 30;
  }
  captions.forEach((c, i) => svg.append(svgEl(document, 'text', { x: MARGIN, y: PLOT_H + 30 + i * LINE_H, class: 'caption' }, c)));
  table(svg, data, 'byNorm', MARGIN, tableTop);
  table(svg, data, 'byCosine', MARGIN + (W - MARGIN) / 2, tableTop);
  return svg;
}

/** A top-k table as text rows; each row is focusable and names its head. */
function table(svg: SVGSVGElement, data: HeadsFigureData, by: 'byNorm' | 'byCosine', x0: number, y0: number): void {
  const doc = svg.ownerDocument, rows: HeadRank[] = data.heads.top[by];
  const cols = [0, 34, 76, 118, 178];
  svg.append(svgEl(doc, 'text', { x: x0, y: y0, 'font-weight': 600, class: 'table-title' }, `top ${rows.length} heads by mean ${by === 'byNorm' ? 'L2 norm' : 'cosine'}`));
  const header = svgEl(doc, 'g', { class: 'table-header', 'fill-opacity': 0.7 });
  ['#', 'layer', 'head', 'norm', 'cosine'].forEach((h, i) => header.append(svgEl(doc, 'text', { x: x0 + cols[i], y: y0 + ROW_H }, h)));
  svg.append(header);
  rows.forEach((r, i) => {
    const g = svgEl(doc, 'g', { class: 'head-row', tabindex: 0, 'data-table': by, 'data-layer': r.layer, 'data-head': r.head, transform: `translate(${x0},${y0 + (i + 2) * ROW_H})` });
    g.append(svgEl(doc, 'title', {}, `layer ${r.layer} head ${r.head}: mean L2 norm ${r.norm.toFixed(4)}, mean cosine ${r.cosine.toFixed(4)} over the chosen positions`));
    [String(i + 1), String(r.layer), String(r.head), r.norm.toFixed(3), r.cosine.toFixed(3)].forEach((v, c) => g.append(svgEl(doc, 'text', { x: cols[c], 'font-variant-numeric': 'tabular-nums' }, v)));
    svg.append(g);
  });
}
