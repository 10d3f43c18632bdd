/**
 * Embedding analogies (methods.md §6). Classic (Mikolov, Yih & Zweig 2013, "Linguistic
 * regularities in continuous space word representations"): a:b::c:? is answered by the rows
 * nearest by cosine to w̃ = E[b] − E[a] + E[c]. Averaged offset ("3CosAvg", Drozd, Gladkova &
 * Matsuoka 2016): Δ = mean_j (E[b_j] − E[a_j]) over the pairs of one relation, w̃ = E[a] + Δ.
 * The query words are never answers (Mikolov's protocol; Linzen 2016 shows how much that
 * exclusion does). Relation scores are top-k accuracies over held-out pairs: Δ for pair i is
 * averaged over the other pairs (leave-one-out); the classic score uses every ordered pair of
 * distinct pairs (j as the example, i as the question).
 *
 * A space is any matrix of rows with a word lookup: a model's W_E or W_U (modelSpace), or
 * real word vectors (word-vectors.ts). A word a tokenizer splits into several tokens is
 * represented by its first token's row or by the mean of its rows (`multi`); answers are
 * rows, so an answer is right when it is the expected word's first token.
 */
import { LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { RelationSet } from './relations/index.ts';

export type MultiTokenMode = 'first' | 'mean';
export type EmbeddingMatrix = 'in' | 'out';

export interface VectorSpace {
  /** What the rows are, said in every result. */
  name: string;
  /** [count, dims] row-major. */
  rows: Float32Array;
  count: number;
  dims: number;
  label(id: number): string;
  /** The rows that spell `word` (one or more), or null when it cannot be looked up. */
  lookup(word: string): number[] | null;
  lookupNote: string;
}

export interface AnalogyOptions {
  k: number;
  multi: MultiTokenMode;
}

export interface WordRows {
  word: string;
  ids: number[];
  pieces: string[];
}

export interface Answer {
  id: number;
  label: string;
  cos: number;
}

export interface AnalogyResult {
  space: string;
  lookupNote: string;
  multi: MultiTokenMode;
  words: { a: WordRows; b: WordRows; c: WordRows };
  /** Top-k rows by cosine, the query words' rows excluded. */
  answers: Answer[];
  excluded: string[];
}

export const SCORING_NOTE = 'an answer is right when it is the expected word\'s first row (its first token); the query words\' rows are never answers';

/** The SentencePiece lookup: a word as it appears after a space ("▁" + word); a leading lone "▁" piece is dropped. */
export function modelSpace(model: LoadedModel, tokenizer: TextTokenizer, matrix: EmbeddingMatrix, modelName: string): VectorSpace {
  const { d_vocab, d_model, tied_embeddings } = model.config;
  const rows = matrix === 'in' ? model.weights.W_E : model.weights.W_U;
  const what = matrix === 'in' ? 'W_E (input embedding)' : `W_U (unembedding${tied_embeddings ? ', tied: the same matrix as W_E' : ''})`;
  return {
    name: `${what} of ${modelName}`,
    rows,
    count: d_vocab,
    dims: d_model,
    label: (id) => tokenizer.piece(id),
    lookup: (word) => {
      if (word.trim() === '') return null;
      let ids = tokenizer.encode(word, { addBos: false });
      if (ids.length > 1 && tokenizer.piece(ids[0]) === '\u2581') ids = ids.slice(1);
      return ids.length > 0 ? ids : null;
    },
    lookupNote: 'SentencePiece: each word is encoded as it appears after a space ("▁" + word); a leading lone "▁" piece is dropped',
  };
}

const norms = new WeakMap<Float32Array, Float64Array>();

function rowNorms(s: VectorSpace): Float64Array {
  let n = norms.get(s.rows);
  if (!n) {
    n = new Float64Array(s.count);
    for (let r = 0; r < s.count; r++) {
      let t = 0;
      for (let j = 0, o = r * s.dims; j < s.dims; j++) t += s.rows[o + j] * s.rows[o + j];
      n[r] = Math.sqrt(t);
    }
    norms.set(s.rows, n);
  }
  return n;
}

interface WordVec extends WordRows {
  vec: Float64Array;
  /** The row an answer must name. */
  target: number;
  /** Rows this word removes from the answers when it is a query word. */
  uses: number[];
}

function wordVec(s: VectorSpace, word: string, multi: MultiTokenMode): WordVec | null {
  const ids = s.lookup(word);
  if (!ids) return null;
  const used = multi === 'first' ? ids.slice(0, 1) : ids;
  const vec = new Float64Array(s.dims);
  for (const id of used) for (let j = 0; j < s.dims; j++) vec[j] += s.rows[id * s.dims + j] / used.length;
  return { word, ids, pieces: ids.map((id) => s.label(id)), vec, target: ids[0], uses: used };
}

function requireWord(s: VectorSpace, word: string, multi: MultiTokenMode): WordVec {
  const w = wordVec(s, word, multi);
  if (!w) throw new LenspressError('unknown-word', `"${word}" is not in ${s.name} (${s.lookupNote})`);
  return w;
}

/** row·v for every row. */
function dots(s: VectorSpace, v: Float64Array): Float64Array {
  const out = new Float64Array(s.count);
  const rows = s.rows, d = s.dims;
  for (let r = 0, o = 0; r < s.count; r++, o += d) {
    let t = 0;
    for (let j = 0; j < d; j++) t += rows[o + j] * v[j];
    out[r] = t;
  }
  return out;
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((t, x) => t + x * x, 0));

/** Cosines from the dot products of every row with q (0 for zero rows). */
function toCosines(s: VectorSpace, dq: Float64Array, qNorm: number): Float64Array {
  const n = rowNorms(s);
  return dq.map((t, r) => (n[r] > 0 && qNorm > 0 ? t / (n[r] * qNorm) : 0));
}

function cosines(s: VectorSpace, q: Float64Array): Float64Array {
  return toCosines(s, dots(s, q), norm(q));
}

/** Top-k ids by score (ties: lower id first), skipping `exclude`. */
function topK(scores: Float64Array, k: number, exclude: ReadonlySet<number>): number[] {
  const best: number[] = [];
  for (let r = 0; r < scores.length; r++) {
    if (exclude.has(r)) continue;
    if (best.length === k && scores[r] <= scores[best[k - 1]]) continue;
    let i = Math.min(best.length, k - 1);
    while (i > 0 && scores[best[i - 1]] < scores[r]) i--;
    best.splice(i, 0, r);
    if (best.length > k) best.pop();
  }
  return best;
}

/** 1-based rank of `target` among the non-excluded rows (rows with an equal score and a lower id rank first). */
function rankOf(scores: Float64Array, target: number, exclude: ReadonlySet<number>): number {
  let rank = 1;
  for (let r = 0; r < scores.length; r++) if (!exclude.has(r) && (scores[r] > scores[target] || (scores[r] === scores[target] && r < target))) rank++;
  return rank;
}

function checkK(s: VectorSpace, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > s.count) throw new LenspressError('bad-option', `k must be a whole number from 1 to ${s.count}, got ${k}`);
}

const strip = ({ word, ids, pieces }: WordVec): WordRows => ({ word, ids, pieces });

/** a : b :: c : ? — rows nearest to E[b] − E[a] + E[c]. */
export function classicAnalogy(s: VectorSpace, a: string, b: string, c: string, opts: AnalogyOptions): AnalogyResult {
  checkK(s, opts.k);
  const [wa, wb, wc] = [a, b, c].map((w) => requireWord(s, w, opts.multi));
  const q = new Float64Array(s.dims);
  for (let j = 0; j < s.dims; j++) q[j] = wb.vec[j] - wa.vec[j] + wc.vec[j];
  const exclude = new Set([...wa.uses, ...wb.uses, ...wc.uses]);
  const scores = cosines(s, q);
  return {
    space: s.name,
    lookupNote: s.lookupNote,
    multi: opts.multi,
    words: { a: strip(wa), b: strip(wb), c: strip(wc) },
    answers: topK(scores, opts.k, exclude).map((id) => ({ id, label: s.label(id), cos: scores[id] })),
    excluded: [...exclude].map((id) => s.label(id)),
  };
}

export interface PairResult {
  a: string;
  b: string;
  /** Top-k answers for a + Δ (Δ from the other pairs). */
  answers: Answer[];
  /** 1-based rank of b's first row. */
  rank: number;
}

export interface MethodScore {
  /** Questions asked (skipped ones not counted). */
  evaluated: number;
  /** Questions whose expected row is one of the query words' rows, so cannot be an answer. */
  skipped: number;
  top1: number;
  topk: number;
}

export interface RelationScore {
  relation: string;
  description: string;
  space: string;
  lookupNote: string;
  multi: MultiTokenMode;
  k: number;
  scoring: string;
  pairs: number;
  /** Pairs whose two words are one row each (no tokenizer split). */
  singleRowPairs: number;
  /** Words that could not be looked up; their pairs are left out. */
  missing: string[];
  averaged: MethodScore & { details: PairResult[] };
  classic: MethodScore;
}

function score(hits: { rank: number }[], skipped: number, k: number): MethodScore {
  const n = hits.length;
  return { evaluated: n, skipped, top1: n ? hits.filter((h) => h.rank === 1).length / n : 0, topk: n ? hits.filter((h) => h.rank <= k).length / n : 0 };
}

/** Both methods over one relation set (needs ≥ 2 usable pairs). */
export function evaluateRelation(s: VectorSpace, rel: RelationSet, opts: AnalogyOptions): RelationScore {
  checkK(s, opts.k);
  const missing: string[] = [];
  const pairs: [WordVec, WordVec][] = [];
  for (const [a, b] of rel.pairs) {
    const wa = wordVec(s, a, opts.multi), wb = wordVec(s, b, opts.multi);
    if (!wa) missing.push(a);
    if (!wb) missing.push(b);
    if (wa && wb) pairs.push([wa, wb]);
  }
  if (pairs.length < 2) throw new LenspressError('too-few-pairs', `relation "${rel.name}" has ${pairs.length} pair(s) found in ${s.name}; expected at least 2 (missing: ${missing.join(', ')})`);
  const d = s.dims, n = pairs.length;
  const deltas = pairs.map(([wa, wb]) => wb.vec.map((v, j) => v - wa.vec[j]));
  const sum = new Float64Array(d);
  for (const delta of deltas) for (let j = 0; j < d; j++) sum[j] += delta[j];

  const details: PairResult[] = [];
  let skippedAvg = 0;
  pairs.forEach(([wa, wb], i) => {
    const exclude = new Set(wa.uses);
    if (exclude.has(wb.target)) return void skippedAvg++;
    const q = wa.vec.map((v, j) => v + (sum[j] - deltas[i][j]) / (n - 1));
    const scores = cosines(s, q);
    details.push({ a: wa.word, b: wb.word, answers: topK(scores, opts.k, exclude).map((id) => ({ id, label: s.label(id), cos: scores[id] })), rank: rankOf(scores, wb.target, exclude) });
  });

  // Classic, every ordered pair (j the example, i the question): row·(a_i + δ_j) = row·a_i + row·δ_j,
  // so 2n passes over the rows serve all n(n − 1) questions.
  const classicHits: { rank: number }[] = [];
  let skippedClassic = 0;
  const aDots = pairs.map(([wa]) => dots(s, wa.vec)), dDots = deltas.map((delta) => dots(s, delta));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const [wa, wb] = pairs[i], [xa, xb] = pairs[j];
      const exclude = new Set([...xa.uses, ...xb.uses, ...wa.uses]);
      if (exclude.has(wb.target)) { skippedClassic++; continue; }
      const q = wa.vec.map((v, t) => v + deltas[j][t]);
      const dq = aDots[i].map((x, r) => x + dDots[j][r]);
      classicHits.push({ rank: rankOf(toCosines(s, dq, norm(q)), wb.target, exclude) });
    }
  }
  return {
    relation: rel.name,
    description: rel.description,
    space: s.name,
    lookupNote: s.lookupNote,
    multi: opts.multi,
    k: opts.k,
    scoring: SCORING_NOTE,
    pairs: n,
    singleRowPairs: pairs.filter(([wa, wb]) => wa.ids.length === 1 && wb.ids.length === 1).length,
    missing,
    averaged: { ...score(details, skippedAvg, opts.k), details },
    classic: score(classicHits, skippedClassic, opts.k),
  };
}
