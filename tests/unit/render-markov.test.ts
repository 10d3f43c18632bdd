/** The Markov-probe figure: the renderer on hand-made data, and the figure on stories260K against analysis/markov.ts. */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { markovProbe } from '../../src/core/analysis/markov.ts';
import { MARKOV_CSV_HEADER, markovCsv, markovKind } from '../../src/core/figures/kinds/markov.ts';
import { defaultCorpus } from '../../src/core/figures/markov-corpus.ts';
import { markovFigure, type MarkovFigureData } from '../../src/core/figures/markov-figure.ts';
import { markovCaptions, markovRowTitle, renderMarkov } from '../../src/core/render/markov-svg.ts';
import { openModel } from '../../src/node/open-model.ts';
import { readCorpus, tokenizeCorpus, defaultCorpusPath } from '../../src/node/sample-corpus.ts';
import { countBigrams } from '../../src/core/analysis/bigram.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

const stats = { sources: 2, argmaxIsSelf: 0.5, meanQSelf: 0.25, medianSelfRank: 1.5 };

/** Three sources with k = 2: one agreeing, one not, one never followed by a token. */
export const SMALL_MARKOV: MarkovFigureData = {
  kind: 'markov',
  prompt: 'Once upon',
  sources: 'prompt',
  k: 2,
  norm: 'none',
  minCount: 5,
  tied: false,
  vocabSize: 16,
  corpus: { file: 'content/data/test-corpus.json', documents: 3, tokens: 40, pairs: 37, distinctSources: 9, sampledFrom: 'test-model', seed: 1, temperature: 1 },
  aggregate: {
    settings: { k: 2, norm: 'none', minCount: 5, epsilon: 1e-6, identity: 'vocab', q: 'Q', spearmanOver: 'seen', ties: 'lower id', kl: 'KL' },
    evaluated: 2,
    means: { topkAgreement: 0.5, top1Agreement: 0.5, medianRank: 2, meanReciprocalRank: 0.625, spearman: 0.25, spearmanRows: 2, kl: 1.5, jaccard: 0.1667, overlap: 0.25 },
    weighted: { topkAgreement: 0.6, kl: 1.2 },
    baselines: { chanceTopK: 0.125, unigram: { topkAgreement: 0.5, kl: 0.9, jaccard: 0.3333 } },
    identity: { evaluated: stats, vocab: { ...stats, sources: 16, argmaxIsSelf: 0.75 } },
  },
  rows: [
    { x: 1, count: 12, inAggregate: true, pTop: [{ id: 10, p: 0.75 }, { id: 12, p: 0.25 }], qTop: [{ id: 10, q: 0.6 }, { id: 1, q: 0.2 }], rankInQ: 1, kl: 0.5, spearman: 1, jaccard: 1 / 3, qSelf: 0.2, selfRank: 2 },
    { x: 10, count: 3, inAggregate: false, pTop: [{ id: 11, p: 1 }], qTop: [{ id: 10, q: 0.9 }, { id: 14, q: 0.05 }], rankInQ: 4, kl: 2.5, spearman: null, jaccard: 0, qSelf: 0.9, selfRank: 1 },
    { x: 14, count: 0, inAggregate: false, pTop: [], qTop: [{ id: 14, q: 0.5 }, { id: 11, q: 0.1 }], rankInQ: null, kl: null, spearman: null, jaccard: null, qSelf: 0.5, selfRank: 1 },
  ],
  pieces: { 1: '<s>', 10: '▁Once', 11: '▁upon', 12: '▁a', 14: '<img/src=x/onerror=alert(1)>' },
  provenance: { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: { sources: 'prompt' } },
};

describe('Markov-probe renderer', () => {
  const doc = staticDocument();
  const svg = renderMarkov(SMALL_MARKOV, { document: doc });

  it('matches the committed SVG snapshot', () => {
    const r = matchSvgSnapshot('markov-small', svg.outerHTML);
    expect(r.ok, r.message).toBe(true);
  });

  it('one focusable row per source; top-k cells shaded by probability; shared tokens bold', () => {
    expect(svg.querySelectorAll('g.row').length).toBe(3);
    expect([...svg.querySelectorAll('g.row')].every((g) => g.getAttribute('tabindex') === '0')).toBe(true);
    const opacities = [...svg.querySelectorAll('g.row[data-row="0"] g.p-item rect')].map((r) => r.getAttribute('fill-opacity'));
    expect(opacities).toEqual(['0.750', '0.250']);
    const bold = [...svg.querySelectorAll('g.row[data-row="0"] text[font-weight="700"]')].map((t) => t.textContent);
    expect(bold).toEqual(['▁Once', '▁Once']); // in both top-2 lists of <s>
    expect(svg.querySelector('g.row[data-row="1"]')!.getAttribute('fill-opacity')).toBe('0.6'); // below minCount
    expect(svg.querySelector('g.row[data-row="2"] text.no-bigram')!.textContent).toBe('—'); // x never followed by a token
  });

  it('the caption carries the aggregate agreement, the baselines and the identity fraction', () => {
    expect(markovCaptions(SMALL_MARKOV)).toEqual([
      'Q(y|x) = softmax(W_E[x]·W_Uᵀ) beside the bigram model P(y|x) = c(x y)/c(x) of a corpus',
      'corpus content/data/test-corpus.json: 3 documents, 37 pairs, text sampled from test-model (seed 1, temperature 1)',
      'over 2 source tokens with c(x) ≥ 5: top-2 agreement 50.0% (unigram 50.0%, chance 12.5%) · top-1 50.0% · median rank 2 · Spearman ρ 0.25',
      'KL(P‖Q_ε) 1.50 nats (unigram 0.90) · Jaccard@2 0.167 (unigram 0.333)',
      'identity: argmax Q(·|x) = x for 50.0% of these tokens and 75.0% of the whole vocabulary; mean Q(x|x) 0.250',
      'bold: in both top-2 lists · rank: of argmax P in Q(·|x) among 16 tokens · faded: c(x) < 5 · —: x never followed by a token',
    ]);
    expect([...svg.querySelectorAll('text.caption')].map((t) => t.textContent)).toEqual(markovCaptions(SMALL_MARKOV));
  });

  it('row titles and details list both distributions; tokens stay text', () => {
    expect(markovRowTitle(SMALL_MARKOV, SMALL_MARKOV.rows[1])).toBe(
      'x = ▁Once: c(x) = 3 (below 5: not in the aggregates)\nbigram P(y|x): ▁upon 100%\nprobe Q(y|x): ▁Once 90.0%, <img/src=x/onerror=alert(1)> 5.0%\nrank of ▁upon (argmax P) in Q: 4 of 16\nKL(P‖Q_ε) 2.500 nats · Spearman ρ — · Jaccard@2 0.00\nQ(x|x) = 0.900, rank of x in Q(·|x): 1',
    );
    const d = markovKind.details!(SMALL_MARKOV, svg.querySelector('g.row[data-row="2"] g.q-item rect')!)!;
    expect(d.title).toBe('x = <img/src=x/onerror=alert(1)>: c(x) = 0 (below 5: not in the aggregates)');
    expect(d.items[0]).toBe('bigram P(y|x): x is never followed by a token in the corpus');
    expect(svg.querySelector('img')).toBeNull();
    expect(parseHTML(`<!doctype html><body>${svg.outerHTML}`).document.querySelector('img')).toBeNull();
  });

  it('exports one CSV line per listed token with the row metrics', () => {
    const csv = markovCsv(SMALL_MARKOV).trimEnd().split('\r\n');
    expect(csv[0]).toBe(MARKOV_CSV_HEADER.join(','));
    expect(csv).toHaveLength(1 + 4 + 3 + 2);
    expect(csv[1]).toBe('1,<s>,12,true,bigram_P,1,10,▁Once,0.75,1,0.5,1,0.3333333333333333');
    expect(csv.at(-1)).toBe('14,<img/src=x/onerror=alert(1)>,0,false,probe_Q,2,11,▁upon,0.1,,,,');
  });
});

describe('Markov-probe figure on stories260K', async () => {
  const m = await openModel('stories260K');
  const ctx = { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' };
  const props = { prompt: 'Once upon a time, there was a little girl named Lily.', sources: 'prompt' as const, rows: 12, k: 5, norm: 'none' as const, minCount: 5 };

  it('counts the same bigrams as the CLI (src/node/sample-corpus.ts reads and tokenizes the file)', async () => {
    const cli = countBigrams(tokenizeCorpus(await readCorpus(defaultCorpusPath('stories260K')!), m.tokenizer), 512);
    const { counts } = await defaultCorpus('stories260K', m.tokenizer, 512);
    expect(counts.pairs).toBe(cli.pairs);
    expect([...counts.from]).toEqual([...cli.from]);
    expect([...counts.next].map(([x, row]) => [x, [...row]])).toEqual([...cli.next].map(([x, row]) => [x, [...row]]));
  });

  it('rows and aggregates are markovProbe\'s, for the prompt\'s distinct tokens in order', async () => {
    const data = await markovFigure(ctx, props);
    const { counts } = await defaultCorpus('stories260K', m.tokenizer, 512);
    const report = await markovProbe(m.hooked, counts, { k: 5, norm: 'none', minCount: 5, epsilon: 1e-6, identity: 'vocab' });
    const ids = [...new Set(m.tokenizer.encode(props.prompt, { addBos: true }))].slice(0, 12);
    expect(data.rows.map((r) => r.x)).toEqual(ids);
    for (const r of data.rows) {
      const e = report.rows.find((x) => x.x === r.x)!;
      expect(r).toMatchObject({ count: e.count, pTop: e.pTop, qTop: e.qTop, rankInQ: e.rankInQ, kl: e.kl, inAggregate: true });
    }
    expect(data.aggregate.means).toEqual(report.means);
    expect(data.aggregate.identity).toEqual(report.identity);
    expect(data.tied).toBe(true);
    expect(data.corpus).toMatchObject({ file: 'content/data/stories260K-corpus.json', sampledFrom: 'stories260K', pairs: report.corpus.pairs });
  });

  it('rare sources (c(x) < minCount) are probed alone; never-followed ones get Q only', async () => {
    const data = await markovFigure(ctx, { ...props, prompt: 'O fri 3' });
    const { counts } = await defaultCorpus('stories260K', m.tokenizer, 512);
    const rare = data.rows.filter((r) => r.count > 0 && r.count < 5), unseen = data.rows.filter((r) => r.count === 0);
    expect(rare.map((r) => m.tokenizer.piece(r.x))).toEqual(['▁O', '▁fri']);
    expect(unseen.length).toBeGreaterThan(0);
    for (const r of rare) {
      expect(r.inAggregate).toBe(false);
      expect(r.pTop[0].p).toBeCloseTo(Math.max(...counts.next.get(r.x)!.values()) / counts.from[r.x], 12);
      expect(r.rankInQ).toBeGreaterThanOrEqual(1);
    }
    for (const r of unseen) expect(r).toMatchObject({ pTop: [], rankInQ: null, kl: null, inAggregate: false });
    expect(unseen.every((r) => r.qTop.length === 5 && r.selfRank >= 1)).toBe(true);
  });

  it('frequent sources: the most frequent first', async () => {
    const data = await markovFigure(ctx, { ...props, sources: 'frequent', rows: 5 });
    const { counts } = await defaultCorpus('stories260K', m.tokenizer, 512);
    const top = [...counts.from.keys()].sort((a, b) => counts.from[b] - counts.from[a] || a - b).slice(0, 5);
    expect(data.rows.map((r) => r.x)).toEqual(top);
  });

  it('a model without a corpus of its own is compared with the stories260K text, and says so', async () => {
    const d = await markovFigure({ ...ctx, model: { ...ctx.model, name: 'other' } }, props);
    expect(d.corpus.file).toBe('content/data/stories260K-corpus.json');
    expect(d.corpus.sampledFrom).toBe('stories260K');
  });
});
