/**
 * The first-order (Markov) probe (methods.md §7; group notes "First Order Markov Model"): the
 * shallowest reading of a GPT-like model passes the input token straight up the residual
 * stream to the unembedding, Q(y|x) = softmax(W_E[x]·W_Uᵀ) (variant: W_E[x] through the final
 * RMSNorm with γ). The hypothesis: for an untied model Q approximates the corpus bigram model
 * P(y|x) = c(x y)/c(x); for a tied model W_E[x]·W_E[x] = ‖W_E[x]‖² tends to be the largest
 * logit, so Q is close to the identity (y = x), which the report measures directly.
 *
 * Q for all source tokens is computed in ONNX Runtime, batched (onnx/markov-graph.ts).
 * Comparisons per source token x with c(x) ≥ minCount:
 *   top-k agreement — argmax_y P(y|x) (ties: lower id) is among Q's top k;
 *   rank of that token in Q over the whole vocabulary (median, and mean reciprocal rank);
 *   Spearman's ρ between P and Q over the tokens seen after x (c(x y) > 0), not the vocabulary;
 *   KL(P‖Q_ε) with Q_ε = (1 − ε)Q + ε/V;  Jaccard and overlap (|∩|/k) of the top-k sets.
 * Baselines: chance (k/V) and the unigram model U(y) = c(· y)/#pairs, scored the same way.
 */
import type { Backend, InferenceSession } from '../engine/runtime.ts';
import { createSession } from '../engine/runtime.ts';
import { LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import { buildMarkovGraph, type MarkovNorm } from '../onnx/markov-graph.ts';
import { type BigramCounts, jaccard, klSmoothed, mean, median, sortedNext, spearman } from './bigram.ts';

export type { MarkovNorm };

export interface MarkovOptions {
  k: number;
  norm: MarkovNorm;
  /** Source tokens seen fewer times (c(x) < minCount) are not compared. */
  minCount: number;
  epsilon: number;
  /** Identity statistics over the compared tokens, and also over every vocabulary token ('vocab'). */
  identity: 'vocab' | 'evaluated';
}

export const DEFAULT_MARKOV_OPTIONS: MarkovOptions = { k: 5, norm: 'none', minCount: 5, epsilon: 1e-6, identity: 'vocab' };

/** What the probe needs: a HookedModel has both. */
export interface ModelOnBackend {
  model: LoadedModel;
  backend: Backend;
}

export interface MarkovQ {
  topIds: number[][];
  topQ: number[][];
  /** log Q(at[i][j] | ids[i]). */
  logqAt: number[][];
  /** 1-based rank of at[i][0] in Q(·|ids[i]): 1 + #{y : Q(y|x) > Q(at[i][0]|x)}. */
  rank0: number[];
}

const sessions = new WeakMap<LoadedModel, Map<string, Promise<InferenceSession>>>();

function session(m: ModelOnBackend, norm: MarkovNorm, k: number): Promise<InferenceSession> {
  let cache = sessions.get(m.model);
  if (!cache) sessions.set(m.model, (cache = new Map()));
  const key = `${norm}:${k}`;
  let s = cache.get(key);
  if (!s) {
    const c = m.model.config, w = m.model.weights;
    s = createSession(m.backend, buildMarkovGraph({ d_model: c.d_model, d_vocab: c.d_vocab, W_in: w.W_E, W_out: w.W_U, embed_scale: c.embed_scale, gamma: w.ln_final_w, eps: c.norm_eps, norm, k }));
    s.catch(() => cache.delete(key));
    cache.set(key, s);
  }
  return s;
}

/** Rows per graph call: about 4M floats per [n, d_vocab] intermediate. */
const batchRows = (vocab: number) => Math.max(1, Math.floor(4_194_304 / vocab));

/** Q(·|x) for many x, batched; `at[i]` (non-empty; rows may differ in length) names the tokens y at which to read log Q(y|x). */
export async function markovQ(m: ModelOnBackend, ids: readonly number[], at: readonly (readonly number[])[], opts: { k: number; norm: MarkovNorm }): Promise<MarkovQ> {
  const V = m.model.config.d_vocab;
  if (!Number.isInteger(opts.k) || opts.k < 1 || opts.k > V) throw new LenspressError('bad-option', `k must be a whole number from 1 to ${V}, got ${opts.k}`);
  for (const id of [...ids, ...at.flat()]) if (!Number.isInteger(id) || id < 0 || id >= V) throw new LenspressError('bad-token-id', `token id ${id} is outside the vocabulary (0..${V - 1})`);
  const s = await session(m, opts.norm, opts.k);
  const { Tensor } = m.backend.ort;
  const out: MarkovQ = { topIds: [], topQ: [], logqAt: [], rank0: [] };
  const step = batchRows(V);
  for (let start = 0; start < ids.length; start += step) {
    const n = Math.min(step, ids.length - start);
    const rows = at.slice(start, start + n);
    const width = Math.max(...rows.map((r) => r.length));
    // Short rows are padded with their first token; the padding is dropped below.
    const atData = BigInt64Array.from(rows.flatMap((r) => Array.from({ length: width }, (_, j) => BigInt(r[j] ?? r[0]))));
    const res = await s.run({ ids: new Tensor('int64', BigInt64Array.from(ids.slice(start, start + n).map(BigInt)), [n]), at: new Tensor('int64', atData, [n, width]) });
    const topIds = res.top_ids.data as BigInt64Array, topQ = res.top_q.data as Float32Array;
    const logq = res.logq_at.data as Float32Array, above = res.above0.data as Float32Array;
    for (let i = 0; i < n; i++) {
      out.topIds.push(Array.from(topIds.subarray(i * opts.k, (i + 1) * opts.k), Number));
      out.topQ.push(Array.from(topQ.subarray(i * opts.k, (i + 1) * opts.k)));
      out.logqAt.push(Array.from(logq.subarray(i * width, i * width + rows[i].length)));
      out.rank0.push(above[i] + 1);
    }
  }
  return out;
}

export interface MarkovRow {
  x: number;
  /** c(x). */
  count: number;
  /** Distinct tokens seen after x. */
  seen: number;
  pTop: { id: number; p: number }[];
  qTop: { id: number; q: number }[];
  argmaxP: number;
  /** 1-based rank of argmax P in Q(·|x) over the vocabulary. */
  rankInQ: number;
  topkAgree: boolean;
  spearman: number | null;
  kl: number;
  jaccard: number;
  overlap: number;
  /** Q(x|x), and the rank of x in Q(·|x) (1: x is Q's argmax, no y has a higher Q). */
  qSelf: number;
  selfRank: number;
}

export interface IdentityStats {
  sources: number;
  /** Fraction of x with argmax_y Q(y|x) = x. */
  argmaxIsSelf: number;
  meanQSelf: number;
  medianSelfRank: number;
}

export interface MarkovReport {
  settings: MarkovOptions & { q: string; spearmanOver: string; ties: string; kl: string };
  tied: boolean;
  corpus: { documents: number; tokens: number; pairs: number; distinctSources: number };
  evaluated: number;
  means: { topkAgreement: number; top1Agreement: number; medianRank: number; meanReciprocalRank: number; spearman: number; spearmanRows: number; kl: number; jaccard: number; overlap: number };
  /** Weighted by c(x): how the probe does on running text rather than per vocabulary entry. */
  weighted: { topkAgreement: number; kl: number };
  baselines: { chanceTopK: number; unigram: { topkAgreement: number; kl: number; jaccard: number } };
  /**
   * How close Q is to the identity: over the compared tokens, and over the whole vocabulary
   * (null unless asked). They can differ a lot: tokens a model never sees in training (e.g.
   * stories260K's 256 byte-fallback pieces) keep near-initial rows.
   */
  identity: { evaluated: IdentityStats; vocab: IdentityStats | null };
  rows: MarkovRow[];
}

function topOf(weights: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: weights.length }, (_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b).slice(0, k);
}

export async function markovProbe(m: ModelOnBackend, counts: BigramCounts, opts: MarkovOptions = DEFAULT_MARKOV_OPTIONS): Promise<MarkovReport> {
  const c = m.model.config, V = c.d_vocab, k = opts.k;
  if (counts.vocab !== V) throw new LenspressError('bad-corpus', `the bigram counts are over ${counts.vocab} tokens but the model's vocabulary has ${V}`);
  if (!Number.isInteger(opts.minCount) || opts.minCount < 1) throw new LenspressError('bad-option', `min-count must be a whole number ≥ 1, got ${opts.minCount}`);
  if (!(opts.epsilon > 0 && opts.epsilon < 1)) throw new LenspressError('bad-option', `epsilon must be in (0, 1), got ${opts.epsilon}`);
  const xs = [...counts.next.keys()].filter((x) => counts.from[x] >= opts.minCount).sort((a, b) => a - b);
  if (xs.length === 0) throw new LenspressError('bad-corpus', `no source token is followed by a token at least ${opts.minCount} times (${counts.pairs} pairs in the corpus): use a larger corpus or a smaller --min-count`);

  const nexts = xs.map((x) => sortedNext(counts, x));
  // Column 0: argmax P (its rank is computed in the graph); column 1: x itself; then every y seen after x.
  const q = await markovQ(m, xs, nexts.map((nx, i) => [nx[0][0], xs[i], ...nx.map(([y]) => y)]), { k, norm: opts.norm });
  const unigramTop = topOf(counts.to, k);
  const unigram = (y: number) => counts.to[y] / counts.pairs;

  const rows: MarkovRow[] = [];
  const uni = { agree: [] as number[], kl: [] as number[], jaccard: [] as number[] };
  xs.forEach((x, i) => {
    const nx = nexts[i], cx = counts.from[x];
    const p = nx.map(([, n]) => n / cx);
    const qAt = q.logqAt[i].slice(2).map(Math.exp);
    const pTopIds = nx.slice(0, k).map(([y]) => y);
    const inter = pTopIds.filter((y) => q.topIds[i].includes(y)).length;
    rows.push({
      x, count: cx, seen: nx.length,
      pTop: nx.slice(0, k).map(([id], j) => ({ id, p: p[j] })),
      qTop: q.topIds[i].map((id, j) => ({ id, q: q.topQ[i][j] })),
      argmaxP: nx[0][0],
      rankInQ: q.rank0[i],
      topkAgree: q.rank0[i] <= k,
      spearman: spearman(p, qAt),
      kl: klSmoothed(p, qAt, opts.epsilon, V),
      jaccard: jaccard(pTopIds, q.topIds[i]),
      overlap: inter / k,
      qSelf: Math.exp(q.logqAt[i][1]),
      selfRank: 0, // filled in from the identity pass below
    });
    uni.agree.push(unigramTop.includes(nx[0][0]) ? 1 : 0);
    uni.kl.push(klSmoothed(p, nx.map(([y]) => unigram(y)), opts.epsilon, V));
    uni.jaccard.push(jaccard(pTopIds, unigramTop));
  });

  const identity = await identityStats(m, opts, rows);
  const rhos = rows.map((r) => r.spearman).filter((r): r is number => r !== null);
  const total = rows.reduce((s, r) => s + r.count, 0);
  const wmean = (f: (r: MarkovRow) => number) => rows.reduce((s, r) => s + r.count * f(r), 0) / total;
  return {
    settings: {
      ...opts,
      q: opts.norm === 'none' ? 'Q(y|x) = softmax(s·W_E[x] · W_Uᵀ), s = the model\'s embedding scale' : 'Q(y|x) = softmax(RMSNorm_γ(s·W_E[x]) · W_Uᵀ), the final norm with its γ',
      spearmanOver: 'the tokens seen after x (c(x y) > 0), not the whole vocabulary',
      ties: 'argmax P and top-k of P: ties broken by lower token id; x is Q\'s argmax when no y has a higher Q(y|x)',
      kl: `KL(P‖Q_ε) in nats over the support of P, Q_ε = (1 − ε)·Q + ε/V, ε = ${opts.epsilon}`,
    },
    tied: c.tied_embeddings || m.model.weights.W_U === m.model.weights.W_E,
    corpus: { documents: counts.documents, tokens: counts.tokens, pairs: counts.pairs, distinctSources: counts.next.size },
    evaluated: rows.length,
    means: {
      topkAgreement: mean(rows.map((r) => +r.topkAgree)),
      top1Agreement: mean(rows.map((r) => +(r.rankInQ === 1))),
      medianRank: median(rows.map((r) => r.rankInQ)),
      meanReciprocalRank: mean(rows.map((r) => 1 / r.rankInQ)),
      spearman: mean(rhos),
      spearmanRows: rhos.length,
      kl: mean(rows.map((r) => r.kl)),
      jaccard: mean(rows.map((r) => r.jaccard)),
      overlap: mean(rows.map((r) => r.overlap)),
    },
    weighted: { topkAgreement: wmean((r) => +r.topkAgree), kl: wmean((r) => r.kl) },
    baselines: { chanceTopK: k / V, unigram: { topkAgreement: mean(uni.agree), kl: mean(uni.kl), jaccard: mean(uni.jaccard) } },
    identity,
    rows,
  };
}

/** Rank of x in Q(·|x), for the compared x (filling rows' selfRank) and, if asked, every x of the vocabulary. */
async function identityStats(m: ModelOnBackend, opts: MarkovOptions, rows: MarkovRow[]): Promise<MarkovReport['identity']> {
  const xs = opts.identity === 'vocab' ? Array.from({ length: m.model.config.d_vocab }, (_, x) => x) : rows.map((r) => r.x);
  const q = await markovQ(m, xs, xs.map((x) => [x]), { k: 1, norm: opts.norm });
  const at = new Map(xs.map((x, i) => [x, i]));
  const stats = (sel: number[]): IdentityStats => ({
    sources: sel.length,
    argmaxIsSelf: mean(sel.map((i) => +(q.rank0[i] === 1))),
    meanQSelf: mean(sel.map((i) => Math.exp(q.logqAt[i][0]))),
    medianSelfRank: median(sel.map((i) => q.rank0[i])),
  });
  for (const r of rows) r.selfRank = q.rank0[at.get(r.x)!];
  return { evaluated: stats(rows.map((r) => at.get(r.x)!)), vocab: opts.identity === 'vocab' ? stats(xs.map((_, i) => i)) : null };
}
