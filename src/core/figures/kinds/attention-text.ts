/**
 * The attention-as-text figure kind (<AttentionText>): the prompt's text shaded by the
 * attention weights from one query position, for one head or the mean over heads
 * (analysis/attention-text.ts; render/attention-text-svg.ts). Layer and query may count
 * from the end (−1 = the last block / the last position). Clicking a token makes it the query.
 */
import { type AttentionText, runAttentionText } from '../../analysis/attention-text.ts';
import { attentionWho, renderAttentionText, tokenTitle } from '../../render/attention-text-svg.ts';
import { pct } from '../../render/svg.ts';
import { displayPiece } from '../../tokenizer/tokenizer.ts';
import { toCsv } from '../csv.ts';
import { figureProvenance, promptIds, resolveIndex } from '../figure-input.ts';
import type { ControlSpec, FigureData, FigureKind } from '../figure-kind.ts';

export interface AttentionTextFigureProps {
  prompt: string;
  /** Block index (TransformerLens blocks.{layer}); negative counts from the last block. */
  layer: number;
  /** One head, or 'average' (the mean over heads); the form sends heads as strings. */
  head: number | string;
  /** Query position; negative counts from the end (−1 = last). */
  query: number;
  threshold: number;
  minWidth: number;
  maxWidth: number;
  scale: 'max' | 'absolute';
  /** Figure width in px; the text wraps inside it. */
  width: number;
}

export interface AttentionTextFigureData extends FigureData {
  kind: 'attention-text';
  attention: AttentionText;
  nLayers: number;
  nHeads: number;
  contextLength: number;
  width: number;
}

export const ATTENTION_TEXT_CSV_HEADER = ['position', 'token_id', 'token', 'weight', 'shade', 'bar_width_px', 'is_query'] as const;

function controls(nLayers: number, nHeads: number, contextLength: number): ControlSpec[] {
  return [
    { name: 'layer', label: 'Block (−1 = last)', type: 'number', min: -nLayers, max: nLayers - 1 },
    { name: 'head', label: 'Head', type: 'select', options: [{ value: 'average', label: 'average' }, ...Array.from({ length: nHeads }, (_, h) => String(h))] },
    { name: 'query', label: 'Query position (−1 = last)', type: 'number', min: -contextLength, max: contextLength - 1 },
    { name: 'threshold', label: 'Threshold', type: 'number', min: 0, max: 1, step: 0.01 },
    { name: 'scale', label: 'Scale', type: 'select', options: [{ value: 'max', label: 'by the largest weight' }, { value: 'absolute', label: 'absolute' }] },
  ];
}

export const attentionTextKind: FigureKind<AttentionTextFigureProps, AttentionTextFigureData> = {
  kind: 'attention-text',
  controls: controls(5, 8, 512), // stories260K's; controlsFor uses the figure's own model
  controlsFor: (data) => controls(data.nLayers, data.nHeads, data.contextLength),
  async compute(ctx, p) {
    const c = ctx.hooked.config;
    const ids = promptIds(ctx, p.prompt);
    const layer = resolveIndex(Number(p.layer), c.n_layers, 'the block');
    const head: number | 'average' = p.head === 'average' ? 'average' : Number(p.head);
    const query = resolveIndex(Number(p.query), ids.length, 'the query position');
    const options = { layer, head, query, threshold: Number(p.threshold), minWidth: Number(p.minWidth), maxWidth: Number(p.maxWidth), scale: p.scale === 'absolute' ? ('absolute' as const) : ('max' as const) };
    const attention = await runAttentionText(ctx.hooked, ids, (id) => ctx.tokenizer.piece(id), options);
    return {
      kind: 'attention-text',
      prompt: p.prompt,
      attention,
      nLayers: c.n_layers,
      nHeads: c.n_heads,
      contextLength: c.n_ctx,
      width: Number(p.width),
      provenance: figureProvenance(ctx, { layer, head, query, threshold: options.threshold, scale: options.scale }),
    };
  },
  render: (data, ctx) => renderAttentionText(data, ctx),
  csv: (data) => toCsv(ATTENTION_TEXT_CSV_HEADER, data.attention.tokens.map((t) => [t.position, t.id, t.text, t.weight, t.shade, t.width, t.isQuery])),
  details(data, target) {
    const el = target.closest?.('g.token');
    const t = data.attention.tokens[Number(el?.getAttribute('data-pos'))];
    if (!el || !t) return null;
    const hint = t.isQuery ? '' : ' · click or press Enter to make it the query, then Run';
    // The row's strongest keys, for context: what the query reads most.
    const top = [...data.attention.tokens].filter((k) => k.weight > 0).sort((x, y) => y.weight - x.weight || x.position - y.position).slice(0, 5);
    return { title: `${attentionWho(data)}: ${tokenTitle(data, t)}${hint}`, items: top.map((k) => `${displayPiece(k.text)} (position ${k.position}) — ${pct(k.weight)}`) };
  },
};
