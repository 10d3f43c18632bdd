/**
 * Renders the information-flow graph (analysis/flow.ts) as a vertical Sankey diagram: the
 * start at the top, the embedding at the bottom, one column per position, token labels along
 * the bottom. Nodes are coloured by type — the residual stream (block outputs, the
 * intermediate x′, the final norm) one hue, attention another, feed-forward a third — and
 * shaded by layer or by position; link width is proportional to mass within the figure's
 * min/max limits (layout: flow-layout.ts). Every node and link has a <title>, so hovering
 * works without JavaScript. Block nodes are focusable and carry `data-set-controls`: the
 * page's figure element sets the start controls from it on click or Enter.
 */
import type { FlowGraph, FlowLink, FlowNode } from '../analysis/flow.ts';
import type { FlowFigureData } from '../figures/kinds/flow.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { FLOW_GEOMETRY, layoutFlow } from './flow-layout.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const HUE = { residual: '#2563eb', attention: '#ea580c', ffn: '#059669', link: '#64748b' } as const;
const NODE_HUE: Record<FlowNode['type'], string> = { block: HUE.residual, final: HUE.residual, intermediate: HUE.residual, attention: HUE.attention, ffn: HUE.ffn };
const LINK_HUE: Record<FlowLink['type'], string> = { residual: HUE.link, norm: HUE.link, attention: HUE.attention, ffn: HUE.ffn };
const CHAR_W = 6, CAPTION_H = 15;

const tokenAt = (data: FlowFigureData, t: number) => displayPiece(data.tokens[t]);
const rowName = (data: FlowFigureData, row: number) => (row === data.nLayers + 1 ? 'final norm' : row === 0 ? 'embed' : `block ${row}`);

/** A node in words, e.g. "attention of block 3 at position 5 (▁Lily)". */
export function nodeLabel(data: FlowFigureData, n: FlowNode): string {
  const at = `position ${n.position} (${tokenAt(data, n.position)})`;
  switch (n.type) {
    case 'final':
      return `final norm at ${at}`;
    case 'block':
      return `${n.layer === 0 ? 'embedding' : `block ${n.layer} output`} at ${at}`;
    case 'intermediate':
      return `x′ of block ${n.layer} at ${at}`;
    case 'attention':
      return `attention of block ${n.layer}, query ${at}`;
    case 'ffn':
      return `feed-forward of block ${n.layer} at ${at}`;
  }
}

export function nodeTitle(data: FlowFigureData, n: FlowNode): string {
  const lines = [`${nodeLabel(data, n)}: mass ${pct(n.mass)}`];
  if (n.type === 'attention') lines.push(`attention share ${pct(n.share ?? 0)}${n.hiddenMass ? `; ${pct(n.hiddenMass)} in links not drawn` : ''}`);
  if (n.type === 'ffn') lines.push(`feed-forward share ${pct(n.share ?? 0)}`);
  lines.push(`hook ${n.hook}`);
  return lines.join('\n');
}

const nodeIndex = new WeakMap<FlowGraph, Map<string, FlowNode>>();

/** The graph's node by id (indexed once per graph). */
export function flowNode(graph: FlowGraph, id: string): FlowNode | undefined {
  let m = nodeIndex.get(graph);
  if (!m) nodeIndex.set(graph, (m = new Map(graph.nodes.map((n) => [n.id, n]))));
  return m.get(id);
}

export function linkTitle(data: FlowFigureData, l: FlowLink): string {
  const byId = (id: string) => flowNode(data.graph, id)!;
  const w = l.weight === undefined ? '' : `, Ā = ${l.weight.toFixed(3)}`;
  return `${l.type}: ${nodeLabel(data, byId(l.source))} → ${nodeLabel(data, byId(l.target))}: mass ${pct(l.value)}${w}`;
}

function startText(data: FlowFigureData): string {
  const s = data.graph.settings.start;
  if (s.kind === 'cell') return `start: ${rowName(data, s.row)} at position ${s.position} (${tokenAt(data, s.position)})`;
  const gen = data.generatedTokens.map(displayPiece).join('').replace(/▁/g, ' ').trim();
  return `start: the final norm at the ${s.positions.length} position${s.positions.length === 1 ? '' : 's'} that generated "${clip(gen, 40)}", mass 1/${s.positions.length} each`;
}

export function renderFlowSankey(data: FlowFigureData, { document }: RenderContext): SVGSVGElement {
  const { graph, style } = data;
  const layout = layoutFlow(graph, style);
  const T = graph.positions, L = data.nLayers;
  const maxChars = Math.floor(layout.col / 6.5); // a token label stays within its column
  const shade = (n: FlowNode) => (style.shadeBy === 'layer' ? n.layer / (L + 1) : n.position / Math.max(1, T - 1));
  const links = graph.settings.links;
  const captions = [
    `${startText(data)} · traced back ${graph.settings.layers} block${graph.settings.layers === 1 ? '' : 's'}${graph.bottom === 0 ? ' to the embedding' : ''}`,
    `attention links drawn: ${'topK' in links ? `the ${links.topK} strongest per attention node` : `head-averaged weight Ā ≥ ${links.minWeight}`}${graph.settings.hideBos ? '; BOS hidden (attention renormalised over the rest)' : ''}; links not drawn carry ${pct(graph.hiddenLinkMass / Math.max(1, graph.settings.layers))} of a row's mass on average`,
    `shade by ${style.shadeBy}; width = mass × ${style.maxLinkWidth} px (at least ${style.minLinkWidth} px); a row's masses sum to 1`,
  ];
  const legendY = layout.bottom + 40;
  const height = legendY + 10 + (captions.length + 1) * CAPTION_H;
  const width = Math.ceil(Math.max(layout.right + 10, FLOW_GEOMETRY.labelW + Math.max(...captions.map((c) => c.length)) * CHAR_W));
  // data-focus-x: where a scrolled frame should look first (the start column; the page scrolls there).
  const startX = layout.columnX[graph.nodes.find((n) => n.depth === 0)?.position ?? 0];
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'flow-sankey', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'data-shade': style.shadeBy, 'data-focus-x': Math.round(startX), 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Information flow in ${data.provenance.model.name} for "${clip(data.prompt, 60)}": ${startText(data)}`));

  for (const [row, y] of layout.rowY) svg.append(svgEl(document, 'text', { x: FLOW_GEOMETRY.labelW - 8, y: y + FLOW_GEOMETRY.node / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', class: 'row-label' }, rowName(data, row)));
  const linkGroup = svgEl(document, 'g', { class: 'links', fill: 'none' });
  for (const l of layout.links) {
    const path = svgEl(document, 'path', { class: 'link', 'data-link': l.index, 'data-type': l.link.type, d: l.d, stroke: LINK_HUE[l.link.type], 'stroke-opacity': l.link.type === 'residual' || l.link.type === 'norm' ? 0.3 : 0.45, 'stroke-width': l.width.toFixed(2) });
    path.append(svgEl(document, 'title', {}, linkTitle(data, l.link)));
    linkGroup.append(path);
  }
  svg.append(linkGroup);
  for (const { node: n, x0, x1, y0, y1 } of layout.nodes) {
    const startable = n.type === 'block' || n.type === 'final';
    const attrs: Record<string, string | number> = { class: `node ${n.type}`, 'data-node': n.id, 'data-mass': n.mass.toFixed(6) };
    if (startable) Object.assign(attrs, { tabindex: 0, 'data-set-controls': JSON.stringify({ row: n.layer, position: n.position, generated: 0 }) });
    const g = svgEl(document, 'g', attrs);
    g.append(svgEl(document, 'title', {}, nodeTitle(data, n)));
    g.append(svgEl(document, 'rect', { x: x0.toFixed(2), y: y0, width: (x1 - x0).toFixed(2), height: y1 - y0, rx: 1, fill: NODE_HUE[n.type], 'fill-opacity': (0.35 + 0.65 * shade(n)).toFixed(3) }));
    svg.append(g);
  }
  // The start: its token above each start node; the inputs along the bottom.
  // (With `generated`, the token each start position produced, marked "→".)
  for (const n of graph.nodes.filter((x) => x.depth === 0)) {
    const out = graph.settings.start.kind === 'generated' ? `→${displayPiece(data.generatedTokens[n.position - data.promptLength + 1])}` : tokenAt(data, n.position);
    svg.append(svgEl(document, 'text', { x: layout.columnX[n.position], y: FLOW_GEOMETRY.top - 7, 'text-anchor': 'middle', class: 'start-token', 'font-weight': 600 }, clip(out, maxChars - 1)));
  }
  data.tokens.forEach((_, t) => {
    const generated = t >= data.promptLength;
    svg.append(svgEl(document, 'text', { x: layout.columnX[t], y: layout.bottom + 16, 'text-anchor': 'middle', class: generated ? 'input-token generated' : 'input-token', ...(generated ? { 'font-style': 'italic' } : {}) }, clip(tokenAt(data, t), maxChars)));
  });
  svg.append(svgEl(document, 'text', { x: FLOW_GEOMETRY.labelW - 8, y: layout.bottom + 16, 'text-anchor': 'end', class: 'row-label' }, 'input'));
  if (data.promptLength < T) {
    const x = FLOW_GEOMETRY.labelW + data.promptLength * layout.col - 0.5;
    svg.append(svgEl(document, 'line', { class: 'sep-generated', x1: x, x2: x, y1: FLOW_GEOMETRY.top, y2: layout.bottom + 22, stroke: 'currentColor', 'stroke-dasharray': '4 3' }));
  }
  // Legend: one swatch per node type.
  let lx = FLOW_GEOMETRY.labelW;
  for (const [label, fill] of [['residual stream (block output, x′)', HUE.residual], ['attention', HUE.attention], ['feed-forward', HUE.ffn]] as const) {
    svg.append(svgEl(document, 'rect', { class: 'legend-swatch', x: lx, y: legendY - 8, width: 10, height: 10, fill }));
    svg.append(svgEl(document, 'text', { x: lx + 14, y: legendY, class: 'legend' }, label));
    lx += 14 + label.length * CHAR_W + 16;
  }
  captions.forEach((text, i) => svg.append(svgEl(document, 'text', { x: FLOW_GEOMETRY.labelW, y: legendY + (i + 1) * CAPTION_H + 4, class: 'caption', 'fill-opacity': 0.7 }, text)));
  return svg;
}
