/**
 * The information-flow figure kind (<FlowSankey>): mass traced back from a start cell, or
 * from the positions that generated N tokens, through the blocks (analysis/flow.ts, methods.md
 * §3), drawn as a vertical Sankey diagram (render/flow-sankey-svg.ts).
 *
 * Start row and position may count from the end (−1 = the final-norm row / the last
 * position), so the default "last position of the final row" follows the reader's prompt.
 * Clicking a block node sets the start controls (its `data-set-controls`); so does a click on
 * a logit-lens cell anywhere on the page (the `lp-select-cell` event, see onSelectCell).
 */
import { type FlowGraph, type FlowStart, runFlow } from '../../analysis/flow.ts';
import { generateGreedy } from '../../engine/generate.ts';
import { LenspressError } from '../../errors.ts';
import { flowNode, linkTitle, nodeLabel, nodeTitle, renderFlowSankey } from '../../render/flow-sankey-svg.ts';
import { pct } from '../../render/svg.ts';
import { toCsv } from '../csv.ts';
import { figureProvenance, promptIds, resolveIndex } from '../figure-input.ts';
import type { ControlSpec, FigureData, FigureKind } from '../figure-kind.ts';

export type FlowShade = 'layer' | 'position';

export interface FlowFigureProps {
  prompt: string;
  /** Start row as in the logit lens (0 = embedding, L+1 = final norm); negative counts from the top (−1 = L+1). */
  row: number;
  /** Start position; negative counts from the end (−1 = last). */
  position: number;
  /** > 0: generate this many tokens greedily and start from the positions that produced them (row and position are then ignored). */
  generated: number;
  /** Blocks traced back from the start; 0 = all. */
  layers: number;
  links: 'top-k' | 'min-weight';
  topK: number;
  minWeight: number;
  hideBos: boolean;
  shadeBy: FlowShade;
  minLinkWidth: number;
  maxLinkWidth: number;
}

export interface FlowFigureData extends FigureData {
  kind: 'flow';
  /** The ids run: the prompt's (BOS first), then the generated tokens but the last. */
  ids: number[];
  /** The raw vocabulary piece at each position. */
  tokens: string[];
  /** Positions from here on hold generated tokens. */
  promptLength: number;
  generated: number[];
  generatedTokens: string[];
  nLayers: number;
  contextLength: number;
  graph: FlowGraph;
  style: { shadeBy: FlowShade; minLinkWidth: number; maxLinkWidth: number };
}

export const FLOW_CSV_HEADER = ['node', 'type', 'row', 'position', 'token', 'mass', 'share', 'hidden_mass', 'hook'] as const;

function controls(nLayers: number, contextLength: number): ControlSpec[] {
  return [
    { name: 'row', label: 'Start row (−1 = final norm)', type: 'number', min: -(nLayers + 2), max: nLayers + 1 },
    { name: 'position', label: 'Start position (−1 = last)', type: 'number', min: -contextLength, max: contextLength - 1 },
    { name: 'generated', label: 'Or: generated tokens', type: 'number', min: 0, max: 32 },
    { name: 'layers', label: 'Blocks (0 = all)', type: 'number', min: 0, max: nLayers },
    { name: 'links', label: 'Links', type: 'select', options: [{ value: 'top-k', label: 'top-k per node' }, { value: 'min-weight', label: 'weight ≥ minimum' }] },
    { name: 'topK', label: 'k', type: 'number', min: 1, max: 16 },
    { name: 'minWeight', label: 'Minimum weight', type: 'number', min: 0, max: 1, step: 0.01 },
    { name: 'hideBos', label: 'Hide BOS', type: 'checkbox' },
    { name: 'shadeBy', label: 'Shade by', type: 'select', options: ['layer', 'position'] },
  ];
}

async function compute(ctx: Parameters<FigureKind<FlowFigureProps, FlowFigureData>['compute']>[0], p: FlowFigureProps): Promise<FlowFigureData> {
  const c = ctx.hooked.config, L = c.n_layers;
  let ids = promptIds(ctx, p.prompt);
  const promptLength = ids.length;
  let generated: number[] = [], start: FlowStart;
  const n = Number(p.generated);
  if (n > 0) {
    generated = await generateGreedy(ctx.hooked, ids, { maxNewTokens: n });
    if (generated.length === 0) throw new LenspressError('bad-option', 'the model generated no token (the context is full): shorten the prompt');
    ids = [...ids, ...generated.slice(0, -1)];
    start = { kind: 'generated', positions: generated.map((_, i) => promptLength - 1 + i) };
  } else {
    start = { kind: 'cell', row: resolveIndex(Number(p.row), L + 2, 'the start row'), position: resolveIndex(Number(p.position), ids.length, 'the start position') };
  }
  const layers = Number(p.layers);
  const links = p.links === 'min-weight' ? { minWeight: Number(p.minWeight) } : { topK: Number(p.topK) };
  const hideBos = p.hideBos === true || (p.hideBos as unknown) === 'true';
  const graph = await runFlow(ctx.hooked, ids, { start, layers: layers > 0 ? layers : undefined, links, hideBos });
  const piece = (id: number) => ctx.tokenizer.piece(id);
  const settings = {
    start: start.kind === 'cell' ? `row ${start.row}, position ${start.position}` : `${generated.length} generated`,
    layers: graph.settings.layers,
    links: 'topK' in links ? `top-${links.topK}` : `Ā ≥ ${links.minWeight}`,
    hideBos,
  };
  return {
    kind: 'flow',
    prompt: p.prompt,
    ids,
    tokens: ids.map(piece),
    promptLength,
    generated,
    generatedTokens: generated.map(piece),
    nLayers: L,
    contextLength: c.n_ctx,
    graph,
    style: { shadeBy: p.shadeBy === 'position' ? 'position' : 'layer', minLinkWidth: Number(p.minLinkWidth), maxLinkWidth: Number(p.maxLinkWidth) },
    provenance: figureProvenance(ctx, settings),
  };
}

export const flowKind: FigureKind<FlowFigureProps, FlowFigureData> = {
  kind: 'flow',
  controls: controls(5, 512), // stories260K's; controlsFor uses the figure's own model
  controlsFor: (data) => controls(data.nLayers, data.contextLength),
  compute,
  render: (data, ctx) => renderFlowSankey(data, ctx),
  csv: (data) =>
    toCsv(
      FLOW_CSV_HEADER,
      data.graph.nodes.map((n) => [n.id, n.type, n.layer, n.position, data.tokens[n.position], n.mass, n.share ?? null, n.hiddenMass ?? null, n.hook]),
    ),
  details(data, target) {
    const el = target.closest?.('[data-node], [data-link]');
    if (!el) return null;
    const linkIndex = el.getAttribute('data-link');
    if (linkIndex !== null) {
      const l = data.graph.links[Number(linkIndex)];
      return l ? { title: linkTitle(data, l), items: [] } : null;
    }
    const n = flowNode(data.graph, el.getAttribute('data-node')!);
    if (!n) return null;
    const out = data.graph.links.filter((l) => l.source === n.id).sort((a, b) => b.value - a.value);
    const items = out.map((l) => `→ ${nodeLabel(data, flowNode(data.graph, l.target)!)}: ${pct(l.value)}${l.weight === undefined ? '' : ` (Ā = ${l.weight.toFixed(3)})`}`);
    const hint = n.type === 'block' || n.type === 'final' ? ' · click or press Enter to start the flow here, then Run' : '';
    return { title: nodeTitle(data, n).split('\n')[0] + hint, items };
  },
  onSelectCell: (cell) => ({ row: cell.row, position: cell.position, generated: 0 }),
};
