/**
 * `lenspress markov`: the first-order (Markov) probe (core/analysis/markov.ts) against the
 * bigrams of a corpus tokenized with the model's tokenizer. Without --corpus, the model's
 * default corpus (stories260K: text sampled from the model, content/data/); with
 * --sample-tokens N, a corpus sampled from the model now (--save-corpus FILE keeps it).
 */
import path from 'node:path';
import { countBigrams } from '../core/analysis/bigram.ts';
import { type IdentityStats, markovProbe, type MarkovNorm, type MarkovOptions } from '../core/analysis/markov.ts';
import { LenspressError } from '../core/errors.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { codeVersion } from '../node/code-version.ts';
import { PROJECT_ROOT } from '../node/project-root.ts';
import { type CorpusFile, DEFAULT_SAMPLE_OPTIONS, defaultCorpusPath, readCorpus, sampleCorpus, tokenizeCorpus, writeCorpus } from '../node/sample-corpus.ts';
import { choiceFlag, intFlag, parseCommand } from './args.ts';
import { openFromFlags } from './open.ts';

function numberFlag(name: string, value: string | boolean | undefined, ok: (x: number) => boolean, expected: string): number {
  const x = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !ok(x)) throw new LenspressError('bad-option', `--${name} must be ${expected}, got "${value}"`);
  return x;
}

export async function markovCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    corpus: { type: 'string' },
    k: { type: 'string', default: '5' },
    norm: { type: 'string', default: 'none' },
    'min-count': { type: 'string', default: '5' },
    epsilon: { type: 'string', default: '1e-6' },
    identity: { type: 'string', default: 'vocab' },
    rows: { type: 'string', default: '15' },
    'sample-tokens': { type: 'string' },
    seed: { type: 'string', default: String(DEFAULT_SAMPLE_OPTIONS.seed) },
    temperature: { type: 'string', default: String(DEFAULT_SAMPLE_OPTIONS.temperature) },
    'save-corpus': { type: 'string' },
  });
  const norm = choiceFlag<MarkovNorm>('norm', values.norm, ['none', 'model']);
  const identity = choiceFlag('identity', values.identity, ['vocab', 'evaluated'] as const);
  const minCount = intFlag('min-count', values['min-count'], 1);
  const epsilon = numberFlag('epsilon', values.epsilon, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  const showRows = intFlag('rows', values.rows, 0);
  const sampling = values['sample-tokens'] !== undefined;
  if (sampling && values.corpus !== undefined) throw new LenspressError('bad-option', 'give --corpus FILE or --sample-tokens N, not both');
  if (!sampling && values['save-corpus'] !== undefined) throw new LenspressError('bad-option', '--save-corpus needs --sample-tokens N');
  const m = await openFromFlags(values);
  const k = intFlag('k', values.k, 1, m.model.config.d_vocab);

  let corpus: CorpusFile, corpusPath: string | null = null;
  if (sampling) {
    const opts = {
      ...DEFAULT_SAMPLE_OPTIONS,
      tokens: intFlag('sample-tokens', values['sample-tokens'], 1),
      seed: intFlag('seed', values.seed, 0, 2 ** 32 - 1),
      temperature: numberFlag('temperature', values.temperature, (x) => x > 0 && Number.isFinite(x), 'a number > 0'),
    };
    corpus = await sampleCorpus(m.hooked, m.tokenizer, m.provenance, codeVersion(), opts);
    if (typeof values['save-corpus'] === 'string') await writeCorpus((corpusPath = path.resolve(values['save-corpus'])), corpus);
  } else {
    corpusPath = typeof values.corpus === 'string' ? path.resolve(values.corpus) : defaultCorpusPath(m.provenance.name);
    if (!corpusPath) throw new LenspressError('missing-option', `no default corpus for ${m.provenance.name}: give --corpus FILE (a text file, or JSON with "documents") or --sample-tokens N`);
    corpus = await readCorpus(corpusPath);
  }
  const counts = countBigrams(tokenizeCorpus(corpus, m.tokenizer), m.model.config.d_vocab);
  const opts: MarkovOptions = { k, norm, minCount, epsilon, identity };
  const report = await markovProbe(m.hooked, counts, opts);
  const corpusInfo = { path: corpusPath && path.relative(PROJECT_ROOT, corpusPath), provenance: corpus.provenance ?? null, tokenizedWith: `${m.provenance.name}'s tokenizer, BOS before each document` };
  if (values.json) return void console.log(JSON.stringify({ kind: 'markov', model: m.provenance, ...report, corpus: { ...report.corpus, ...corpusInfo }, codeVersion: codeVersion() }, null, 2));

  const show = (id: number) => displayPiece(m.tokenizer.piece(id));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const { means: a, baselines: b, identity: id } = report;
  console.log(`${report.settings.q}   (${m.provenance.name}${report.tied ? ', tied: W_U = W_E' : ', untied'})`);
  console.log(`corpus: ${corpusInfo.path ?? 'sampled now'} — ${report.corpus.documents} documents, ${report.corpus.tokens} tokens, ${report.corpus.pairs} pairs; ${report.evaluated} source tokens with c(x) ≥ ${minCount}`);
  const idLine = (what: string, s: IdentityStats) => console.log(`identity over ${what} (${s.sources}): argmax Q(·|x) = x for ${pct(s.argmaxIsSelf)}; mean Q(x|x) = ${s.meanQSelf.toFixed(3)}; median rank of x in Q(·|x) = ${s.medianSelfRank}`);
  console.log('');
  idLine('the compared tokens', id.evaluated);
  if (id.vocab) idLine('the whole vocabulary', id.vocab);
  console.log(`\n                      probe Q      unigram     chance`);
  console.log(`top-${k} agreement      ${pct(a.topkAgreement).padStart(7)}      ${pct(b.unigram.topkAgreement).padStart(7)}    ${pct(b.chanceTopK).padStart(7)}`);
  console.log(`KL(P‖Q_ε) nats       ${a.kl.toFixed(3).padStart(7)}      ${b.unigram.kl.toFixed(3).padStart(7)}`);
  console.log(`Jaccard top-${k}        ${a.jaccard.toFixed(3).padStart(7)}      ${b.unigram.jaccard.toFixed(3).padStart(7)}`);
  console.log(`top-1 agreement ${pct(a.top1Agreement)}, median rank of argmax P in Q ${a.medianRank}, MRR ${a.meanReciprocalRank.toFixed(3)}, Spearman ${a.spearman.toFixed(3)} (${a.spearmanRows} rows; ${report.settings.spearmanOver})`);
  const rows = [...report.rows].sort((x, y) => y.count - x.count).slice(0, showRows);
  if (rows.length) console.log(`\nmost frequent sources: x → bigram top (P) | probe top (Q)`);
  for (const r of rows) {
    const list = (xs: { id: number; v: number }[]) => xs.slice(0, 3).map((t) => `${show(t.id)} ${t.v.toFixed(2)}`).join(', ');
    console.log(`  ${show(r.x).padEnd(10)} ${String(r.count).padStart(6)}  ${list(r.pTop.map((t) => ({ id: t.id, v: t.p }))).padEnd(40)} | ${list(r.qTop.map((t) => ({ id: t.id, v: t.q })))}`);
  }
  console.log(`\n${report.settings.kl}; ${report.settings.ties}`);
}
