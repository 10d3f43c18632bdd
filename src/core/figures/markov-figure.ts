/**
 * The Markov-probe figure's data (methods.md §7): for chosen source tokens x, the model's
 * first-order reading Q(y|x) = softmax(W_E[x]·W_Uᵀ) beside the corpus bigram P(y|x), and the
 * probe's aggregate agreement over every source token seen at least minCount times
 * (analysis/markov.ts). Sources are the prompt's tokens or the corpus's most frequent ones.
 */
import { markovProbe, markovQ, type MarkovNorm, type MarkovReport, type MarkovRow } from '../analysis/markov.ts';
import { LenspressError } from '../errors.ts';
import type { FigureContext, FigureData } from './figure-kind.ts';
import { defaultCorpus } from './markov-corpus.ts';

export type MarkovSources = 'prompt' | 'frequent';

export interface MarkovFigureProps {
  prompt: string;
  sources: MarkovSources;
  rows: number;
  k: number;
  norm: MarkovNorm;
  minCount: number;
}

/** One source token's comparison; metrics are null when x is never followed by a token in the corpus. */
export interface MarkovFigureRow {
  x: number;
  count: number;
  /** Counted in the aggregates (c(x) ≥ minCount). */
  inAggregate: boolean;
  pTop: { id: number; p: number }[];
  qTop: { id: number; q: number }[];
  rankInQ: number | null;
  kl: number | null;
  spearman: number | null;
  jaccard: number | null;
  qSelf: number;
  selfRank: number;
}

export interface MarkovFigureData extends FigureData {
  kind: 'markov';
  sources: MarkovSources;
  k: number;
  norm: MarkovNorm;
  minCount: number;
  tied: boolean;
  vocabSize: number;
  corpus: { file: string; documents: number; tokens: number; pairs: number; distinctSources: number; sampledFrom: string | null; seed: number | null; temperature: number | null };
  /** The probe over every source with c(x) ≥ minCount (markovProbe's report without its rows). */
  aggregate: Pick<MarkovReport, 'settings' | 'evaluated' | 'means' | 'weighted' | 'baselines' | 'identity'>;
  rows: MarkovFigureRow[];
  pieces: Record<number, string>;
}

const fromProbe = (r: MarkovRow, minCount: number): MarkovFigureRow => ({
  x: r.x, count: r.count, inAggregate: r.count >= minCount, pTop: r.pTop, qTop: r.qTop,
  rankInQ: r.rankInQ, kl: r.kl, spearman: r.spearman, jaccard: r.jaccard, qSelf: r.qSelf, selfRank: r.selfRank,
});

export async function markovFigure(ctx: FigureContext, props: MarkovFigureProps): Promise<MarkovFigureData> {
  const { hooked, tokenizer } = ctx;
  const V = hooked.config.d_vocab;
  if (!Number.isInteger(props.rows) || props.rows < 1) throw new LenspressError('bad-option', `rows must be a whole number ≥ 1, got ${props.rows}`);
  if (!Number.isInteger(props.k) || props.k < 1 || props.k > V) throw new LenspressError('bad-option', `k must be a whole number from 1 to ${V}, got ${props.k}`);
  if (props.sources === 'prompt' && props.prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: type the text whose tokens to compare (or choose the most frequent tokens)');
  const { file, corpus, counts } = await defaultCorpus(ctx.model.name, tokenizer, V);
  const report = await markovProbe(hooked, counts, { k: props.k, norm: props.norm, minCount: props.minCount, epsilon: 1e-6, identity: 'vocab' });

  const xs = props.sources === 'prompt'
    ? [...new Set(tokenizer.encode(props.prompt, { addBos: true }))].slice(0, props.rows)
    : Array.from({ length: V }, (_, x) => x).filter((x) => counts.from[x] > 0).sort((a, b) => counts.from[b] - counts.from[a] || a - b).slice(0, props.rows);
  // Sources below minCount are not in the report: probe them alone (minCount 1), never seen ones by Q only.
  const byX = new Map(report.rows.map((r) => [r.x, fromProbe(r, props.minCount)]));
  const rare = xs.filter((x) => !byX.has(x) && counts.from[x] > 0);
  if (rare.length) {
    const sub = { ...counts, next: new Map(rare.map((x) => [x, counts.next.get(x)!])) };
    const extra = await markovProbe(hooked, sub, { k: props.k, norm: props.norm, minCount: 1, epsilon: 1e-6, identity: 'evaluated' });
    for (const r of extra.rows) byX.set(r.x, fromProbe(r, props.minCount));
  }
  const unseen = xs.filter((x) => !byX.has(x));
  if (unseen.length) {
    const q = await markovQ(hooked, unseen, unseen.map((x) => [x]), { k: props.k, norm: props.norm });
    unseen.forEach((x, i) => byX.set(x, {
      x, count: 0, inAggregate: false, pTop: [], qTop: q.topIds[i].map((id, j) => ({ id, q: q.topQ[i][j] })),
      rankInQ: null, kl: null, spearman: null, jaccard: null, qSelf: Math.exp(q.logqAt[i][0]), selfRank: q.rank0[i],
    }));
  }
  const rows = xs.map((x) => byX.get(x)!);
  const pieces: Record<number, string> = {};
  for (const r of rows) for (const id of [r.x, ...r.pTop.map((t) => t.id), ...r.qTop.map((t) => t.id)]) pieces[id] = tokenizer.piece(id);
  const { settings, evaluated, means, weighted, baselines, identity } = report;
  const prov = corpus.provenance;
  return {
    kind: 'markov',
    prompt: props.prompt,
    sources: props.sources,
    k: props.k,
    norm: props.norm,
    minCount: props.minCount,
    tied: report.tied,
    vocabSize: V,
    corpus: { file, ...report.corpus, sampledFrom: prov?.model?.name ?? null, seed: prov?.seed ?? null, temperature: prov?.temperature ?? null },
    aggregate: { settings, evaluated, means, weighted, baselines, identity },
    rows,
    pieces,
    provenance: {
      model: ctx.model,
      codeVersion: ctx.codeVersion,
      backend: hooked.backend.label,
      settings: { sources: props.sources, k: props.k, norm: props.norm, min_count: props.minCount, corpus: file },
    },
  };
}
