/**
 * Lays out an information-flow graph (analysis/flow.ts) as a vertical Sankey diagram: the
 * start row at the top, the embedding at the bottom. d3-sankey (Bostock, d3-sankey 0.12)
 * builds the node–link structure and node values (`fixedValue` = the node's mass, so links
 * left out do not shrink a node); its automatic placement is then replaced: every node sits
 * at a fixed place given by (row, position, type) — a column per position, a step per node
 * type — so the same cell is always in the same place and diagrams can be compared. Then
 * `sankey.update` recomputes where each link leaves and enters its nodes.
 *
 * d3-sankey lays out left to right: its x (x0, x1) is the depth axis and its y (y0, y1) the
 * breadth. Here depth is drawn downwards and breadth across, so d3's x becomes the SVG y and
 * d3's y the SVG x (the diagram is d3's rotated by 90°).
 *
 * Widths: a link of mass m is m·maxLinkWidth px wide but never under minLinkWidth (a start
 * mass of 1 is maxLinkWidth wide, and every node's mass is ≤ 1, since each row sums to 1). A
 * node is as wide as its mass says, and at least as wide as the links it stacks, so thin
 * links raised to the minimum still fit.
 */
import { sankey, type SankeyLink, type SankeyNode } from 'd3-sankey';
import type { FlowGraph, FlowLink, FlowNode } from '../analysis/flow.ts';

/** Left gutter for row labels, vertical step per node type, node thickness; column width limits and the width the columns aim to fit. */
export const FLOW_GEOMETRY = { labelW: 86, top: 22, step: 24, node: 6, minCol: 36, maxCol: 56, fitWidth: 900 } as const;

/** Column width for T positions: as wide as reads well (56 px), narrower (down to 36) so a typical prompt fits an article column. */
export const flowColumnWidth = (T: number): number => Math.max(FLOW_GEOMETRY.minCol, Math.min(FLOW_GEOMETRY.maxCol, Math.floor((FLOW_GEOMETRY.fitWidth - FLOW_GEOMETRY.labelW) / Math.max(1, T))));

export interface FlowWidths {
  minLinkWidth: number;
  maxLinkWidth: number;
}

type N = FlowNode & { flowDepth: number };
type L = FlowLink & { index?: number; width?: number };

export interface LaidNode {
  node: FlowNode;
  /** SVG box: x across (breadth), y down (depth). */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface LaidLink {
  /** Index into graph.links. */
  index: number;
  link: FlowLink;
  width: number;
  /** SVG path (a vertical cubic Bézier along the link's centre line). */
  d: string;
}

export interface FlowLayout {
  /** Column width (px) per position. */
  col: number;
  nodes: LaidNode[];
  links: LaidLink[];
  /** x of each position's column centre. */
  columnX: number[];
  /** y of the top of each block row (and the final-norm row when shown). */
  rowY: Map<number, number>;
  /** Bottom of the lowest node. */
  bottom: number;
  /** Right edge of the last column, or of a wide node that sticks out of it. */
  right: number;
}

const { labelW, top, step, node: thickness } = FLOW_GEOMETRY;

export function layoutFlow(graph: FlowGraph, { minLinkWidth, maxLinkWidth }: FlowWidths): FlowLayout {
  // Copies: d3-sankey writes into nodes and links (and rewrites `depth`), the figure data stays as it is.
  const nodes: N[] = graph.nodes.map((n) => ({ ...n, flowDepth: n.depth }));
  const links: L[] = graph.links.map((l) => ({ ...l }));
  const g = sankey<N, L>()
    .nodeId((n) => n.id)
    .iterations(0)
    .extent([[0, 0], [1000, 1000]])({ nodes, links });
  const T = graph.positions, col = flowColumnWidth(T);
  const centre = (n: FlowNode) => labelW + n.x * T * col;
  const width = (value: number) => Math.max(minLinkWidth, value * maxLinkWidth);
  for (const l of g.links) l.width = width(l.value);
  for (const n of g.nodes as SankeyNode<N, L>[]) {
    const stacked = Math.max(sum(n.sourceLinks!), sum(n.targetLinks!));
    const breadth = Math.max(width(n.value ?? n.mass), stacked);
    n.y0 = centre(n) - breadth / 2;
    n.y1 = centre(n) + breadth / 2;
    n.x0 = top + n.flowDepth * step;
    n.x1 = n.x0 + thickness;
    // Links leave and enter a node in the order of the nodes at their other end, so none cross at the node.
    n.sourceLinks!.sort((a, b) => centre(a.target as N) - centre(b.target as N) || a.index! - b.index!);
    n.targetLinks!.sort((a, b) => centre(a.source as N) - centre(b.source as N) || a.index! - b.index!);
  }
  sankey<N, L>().update(g);

  const laidNodes = (g.nodes as SankeyNode<N, L>[]).map((n) => ({ node: graph.nodes[n.index!], x0: n.y0!, x1: n.y1!, y0: n.x0!, y1: n.x1! }));
  const laidLinks = (g.links as SankeyLink<N, L>[]).map((l) => {
    const s = l.source as SankeyNode<N, L>, t = l.target as SankeyNode<N, L>;
    const xs = l.y0!, ys = s.x1!, xt = l.y1!, yt = t.x0!, ym = (ys + yt) / 2;
    return { index: l.index!, link: graph.links[l.index!], width: l.width!, d: `M${r2(xs)},${r2(ys)}C${r2(xs)},${r2(ym)} ${r2(xt)},${r2(ym)} ${r2(xt)},${r2(yt)}` };
  });
  const rowY = new Map<number, number>();
  for (const n of laidNodes) if (n.node.type === 'block' || n.node.type === 'final') rowY.set(n.node.layer, n.y0);
  return {
    col,
    nodes: laidNodes,
    links: laidLinks,
    columnX: Array.from({ length: T }, (_, t) => labelW + (t + 0.5) * col),
    rowY,
    bottom: Math.max(top, ...laidNodes.map((n) => n.y1)),
    right: Math.max(labelW + T * col, ...laidNodes.map((n) => n.x1)),
  };
}

const sum = (ls: SankeyLink<N, L>[]) => ls.reduce((a, l) => a + l.width!, 0);
const r2 = (v: number) => Math.round(v * 100) / 100;
