/** The Markov-probe figure kind: Q(y|x) from W_E·W_Uᵀ beside corpus bigrams (see markov-figure.ts). */
import { markovRowTitle, renderMarkov } from '../../render/markov-svg.ts';
import { type CsvValue, toCsv } from '../csv.ts';
import type { FigureKind } from '../figure-kind.ts';
import { markovFigure, type MarkovFigureData, type MarkovFigureProps } from '../markov-figure.ts';

export const MARKOV_CSV_HEADER = ['source_id', 'source', 'count', 'in_aggregate', 'distribution', 'rank', 'token_id', 'token', 'probability', 'rank_of_argmax_p_in_q', 'kl_nats', 'spearman', 'jaccard'] as const;

/** One line per (source, distribution, rank): the bigram's and the probe's top-k with the row's metrics. */
export function markovCsv(data: MarkovFigureData): string {
  const rows: CsvValue[][] = [];
  for (const r of data.rows) {
    const tail = [r.rankInQ, r.kl, r.spearman, r.jaccard];
    r.pTop.forEach((t, i) => rows.push([r.x, data.pieces[r.x], r.count, r.inAggregate, 'bigram_P', i + 1, t.id, data.pieces[t.id], t.p, ...tail]));
    r.qTop.forEach((t, i) => rows.push([r.x, data.pieces[r.x], r.count, r.inAggregate, 'probe_Q', i + 1, t.id, data.pieces[t.id], t.q, ...tail]));
  }
  return toCsv(MARKOV_CSV_HEADER, rows);
}

export const markovKind: FigureKind<MarkovFigureProps, MarkovFigureData> = {
  kind: 'markov',
  controls: [
    { name: 'sources', label: 'Source tokens', type: 'select', options: [{ value: 'prompt', label: "the prompt's tokens" }, { value: 'frequent', label: 'the most frequent in the corpus' }] },
    { name: 'norm', label: 'Probe', type: 'select', options: [{ value: 'none', label: 'W_E[x]·W_Uᵀ' }, { value: 'model', label: 'with the final RMSNorm γ' }] },
    { name: 'k', label: 'Top k', type: 'number', min: 1, max: 10 },
  ],
  compute: (ctx, p) => markovFigure(ctx, p),
  render: (data, ctx) => renderMarkov(data, ctx),
  csv: markovCsv,
  details(data, target) {
    const g = target.closest?.('g.row');
    const row = g && data.rows[Number(g.getAttribute('data-row'))];
    if (!row) return null;
    const [title, ...items] = markovRowTitle(data, row).split('\n');
    return { title, items };
  },
};
