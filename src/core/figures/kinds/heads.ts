/**
 * The per-head contribution figure kind (<HeadContributions>): each head's L2 norm against
 * its cosine to the attention output, over all positions or the first/last N, with the
 * correlations between the two measures and the top-k heads (analysis/head-contributions.ts,
 * render/head-contributions-svg.ts). N larger than the prompt means the whole prompt (the
 * caption says which positions were used), so a reader's shorter prompt still runs.
 */
import { type HeadContributions, type PositionChoice, runHeadContributions } from '../../analysis/head-contributions.ts';
import { headPoints, pointTitle, renderHeadContributions } from '../../render/head-contributions-svg.ts';
import { displayPiece } from '../../tokenizer/tokenizer.ts';
import { toCsv } from '../csv.ts';
import { figureProvenance, promptIds } from '../figure-input.ts';
import type { FigureData, FigureKind } from '../figure-kind.ts';

export type HeadPositions = 'all' | 'first' | 'last';

export interface HeadsFigureProps {
  prompt: string;
  positions: HeadPositions;
  /** N for first/last N. */
  count: number;
  topK: number;
}

export interface HeadsFigureData extends FigureData {
  kind: 'heads';
  /** The raw vocabulary piece at each position. */
  tokens: string[];
  heads: HeadContributions;
}

export const HEADS_CSV_HEADER = ['layer', 'head', 'position', 'token', 'l2_norm', 'cosine', 'chosen'] as const;

export const headsKind: FigureKind<HeadsFigureProps, HeadsFigureData> = {
  kind: 'heads',
  controls: [
    { name: 'positions', label: 'Positions', type: 'select', options: [{ value: 'all', label: 'all' }, { value: 'first', label: 'first N' }, { value: 'last', label: 'last N' }] },
    { name: 'count', label: 'N', type: 'number', min: 1, max: 512 },
    { name: 'topK', label: 'Top-k heads', type: 'number', min: 1, max: 20 },
  ],
  async compute(ctx, p) {
    const ids = promptIds(ctx, p.prompt), T = ids.length;
    const n = Math.min(Number(p.count), T);
    const positions: PositionChoice = p.positions === 'first' ? { first: n } : p.positions === 'last' ? { last: n } : 'all';
    const c = ctx.hooked.config;
    const topK = Math.min(Number(p.topK), c.n_layers * c.n_heads);
    const heads = await runHeadContributions(ctx.hooked, ids, { positions, topK });
    return {
      kind: 'heads',
      prompt: p.prompt,
      tokens: ids.map((id) => ctx.tokenizer.piece(id)),
      heads,
      provenance: figureProvenance(ctx, { positions: p.positions === 'all' ? 'all' : `${p.positions} ${n}`, topK, source: heads.source }),
    };
  },
  render: (data, ctx) => renderHeadContributions(data, ctx),
  csv(data) {
    const { heads } = data, chosen = new Set(heads.chosen), rows = [];
    for (let l = 0; l < heads.nLayers; l++) for (let t = 0; t < heads.positions; t++) for (let h = 0; h < heads.nHeads; h++) rows.push([l, h, t, data.tokens[t], heads.norm[l][t][h], heads.cosine[l][t][h], chosen.has(t)]);
    return toCsv(HEADS_CSV_HEADER, rows);
  },
  details(data, target) {
    const el = target.closest?.('[data-point], g.head-row');
    if (!el) return null;
    const point = el.getAttribute('data-point') === null ? null : headPoints(data)[Number(el.getAttribute('data-point'))];
    if (point === undefined) return null;
    const layer = point ? point.layer : Number(el.getAttribute('data-layer')), head = point ? point.head : Number(el.getAttribute('data-head'));
    if (!data.heads.norm[layer] || !(head >= 0 && head < data.heads.nHeads)) return null;
    const { heads } = data;
    const rank = (by: 'byNorm' | 'byCosine') => heads.top[by].findIndex((r) => r.layer === layer && r.head === head);
    const ranks = [rank('byNorm'), rank('byCosine')].map((r, i) => (r < 0 ? '' : `#${r + 1} by ${i === 0 ? 'norm' : 'cosine'}`)).filter(Boolean);
    const title = point ? pointTitle(data, point) : `layer ${layer} head ${head}${ranks.length ? ` (${ranks.join(', ')})` : ''}`;
    // The head at every chosen position, so a reader sees where it is strong.
    const items = heads.chosen.map((t) => `position ${t} (${displayPiece(data.tokens[t])}): norm ${heads.norm[layer][t][head].toFixed(3)}, cosine ${heads.cosine[layer][t][head].toFixed(3)}`);
    return { title, items };
  },
};
