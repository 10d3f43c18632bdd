/**
 * The analogy-explorer figure's data (methods.md §6): the classic a:b::c:? and, with a
 * relation chosen, the averaged offset c + Δ_relation and the relation's top-k accuracy, on
 * the model's input embedding W_E and unembedding W_U side by side (one panel when they are
 * tied). The figure's "prompt" is the analogy text; parseAnalogy reads it.
 */
import { type AnalogyOptions, type AnalogyResult, type Answer, classicAnalogy, type EmbeddingMatrix, evaluateRelation, modelSpace, type MultiTokenMode, type RelationScore, type VectorSpace, type WordRows } from '../analysis/analogy.ts';
import { RELATIONS, type RelationSet } from '../analysis/relations/index.ts';
import { LenspressError } from '../errors.ts';
import type { FigureContext, FigureData } from './figure-kind.ts';

export interface AnalogyQuery {
  /** Absent for a query word alone ("France:?"), answered only by a relation's averaged offset. */
  a?: string;
  b?: string;
  c: string;
}

export interface AnalogyFigureProps {
  prompt: string;
  /** A relation name from analysis/relations, or 'none'. */
  relation: string;
  k: number;
  multi: MultiTokenMode;
}

export interface AveragedAnswer {
  relation: string;
  word: WordRows;
  /** Pairs whose offsets were averaged (the query word's own pair, if any, left out). */
  pairsUsed: number;
  answers: Answer[];
}

export interface AnalogyPanel {
  matrix: EmbeddingMatrix;
  /** "W_E (input embedding)", "W_U (unembedding)", or "W_E = W_U (tied)". */
  label: string;
  classic: AnalogyResult | null;
  averaged: AveragedAnswer | null;
  score: RelationScore | null;
}

export interface AnalogyFigureData extends FigureData {
  kind: 'analogy';
  query: AnalogyQuery;
  tied: boolean;
  k: number;
  multi: MultiTokenMode;
  relation: string | null;
  vocabSize: number;
  panels: AnalogyPanel[];
}

const SYNTAX = 'expected an analogy like "man:king::woman:?" (a:b::c:?), or a word alone like "France:?" with a relation chosen';

/**
 * Reads "a:b::c:?" (the final ":?" may be left out: "a:b::c") or "c:?" (a query word for a
 * relation's averaged offset). Words are trimmed; they may contain spaces, not ":" or "?".
 */
export function parseAnalogy(text: string): AnalogyQuery {
  const t = text.trim();
  const fail = (why: string) => new LenspressError('bad-analogy', `${SYNTAX}; ${why} in "${text}"`);
  const word = (w: string, name: string) => {
    const s = w.trim();
    if (s === '') throw fail(`word ${name} is empty`);
    if (/[:?]/.test(s)) throw fail(`word ${name} ("${s}") holds a ":" or "?"`);
    return s;
  };
  const halves = t.split('::');
  if (halves.length > 2) throw fail('found "::" more than once');
  const right = halves[halves.length - 1].replace(/:\s*\?\s*$/, '').replace(/:\s*$/, '');
  if (halves.length === 1) {
    if (!/:\s*\?\s*$/.test(t)) throw fail('found no "::"');
    return { c: word(right, 'c') };
  }
  const left = halves[0].split(':');
  if (left.length !== 2) throw fail(`expected "a:b" before "::", found ${left.length} part${left.length === 1 ? '' : 's'}`);
  return { a: word(left[0], 'a'), b: word(left[1], 'b'), c: word(right, 'c') };
}

export function relationByName(name: string): RelationSet | null {
  if (name === 'none') return null;
  const rel = RELATIONS[name];
  if (!rel) throw new LenspressError('bad-option', `unknown relation "${name}": expected none or one of ${Object.keys(RELATIONS).join(', ')}`);
  return rel;
}

/**
 * c + Δ, Δ the mean offset of the relation's pairs, the pair of c itself left out. Through
 * evaluateRelation's leave-one-out: its answer for pair (c, ·) is exactly c + the mean of
 * the other pairs' offsets. A c outside the set joins it as (c, filler); the filler's offset
 * never enters c's own Δ, and only c's answers are read.
 */
export function averagedOffset(s: VectorSpace, rel: RelationSet, c: string, opts: AnalogyOptions): AveragedAnswer {
  const ids = s.lookup(c);
  if (!ids) throw new LenspressError('unknown-word', `"${c}" is not in ${s.name} (${s.lookupNote})`);
  const own = rel.pairs.find(([a]) => a === c);
  // A filler whose first row is one of c's rows would be skipped as a question: try the next.
  const fillers = own ? [own[1]] : rel.pairs.map(([, b]) => b).filter((b) => { const r = s.lookup(b); return r !== null && !ids.includes(r[0]); });
  for (const filler of fillers) {
    const set: RelationSet = { ...rel, pairs: own ? rel.pairs : [...rel.pairs, [c, filler]] };
    const r = evaluateRelation(s, set, opts);
    const d = r.averaged.details.find((x) => x.a === c);
    if (d) return { relation: rel.name, word: { word: c, ids, pieces: ids.map((id) => s.label(id)) }, pairsUsed: r.pairs - 1, answers: d.answers };
  }
  throw new LenspressError('too-few-pairs', `cannot form an averaged offset for "${c}" from relation "${rel.name}" in ${s.name}`);
}

const LABELS: Record<EmbeddingMatrix, string> = { in: 'W_E (input embedding)', out: 'W_U (unembedding)' };

export async function analogyFigure(ctx: FigureContext, props: AnalogyFigureProps): Promise<AnalogyFigureData> {
  const query = parseAnalogy(props.prompt);
  const rel = relationByName(props.relation);
  if (query.a === undefined && !rel) throw new LenspressError('bad-analogy', `"${props.prompt.trim()}" names one word only: choose a relation for its averaged offset, or write a:b::c:?`);
  const { model } = ctx.hooked;
  const tied = model.config.tied_embeddings || model.weights.W_U === model.weights.W_E;
  const opts: AnalogyOptions = { k: props.k, multi: props.multi };
  const matrices: EmbeddingMatrix[] = tied ? ['in'] : ['in', 'out'];
  const panels = matrices.map((matrix): AnalogyPanel => {
    const s = modelSpace(model, ctx.tokenizer, matrix, ctx.model.name);
    return {
      matrix,
      label: tied ? 'W_E = W_U (tied)' : LABELS[matrix],
      classic: query.a !== undefined ? classicAnalogy(s, query.a, query.b!, query.c, opts) : null,
      averaged: rel ? averagedOffset(s, rel, query.c, opts) : null,
      score: rel ? evaluateRelation(s, rel, opts) : null,
    };
  });
  return {
    kind: 'analogy',
    prompt: props.prompt,
    query,
    tied,
    k: props.k,
    multi: props.multi,
    relation: rel?.name ?? null,
    vocabSize: model.config.d_vocab,
    panels,
    provenance: {
      model: ctx.model,
      codeVersion: ctx.codeVersion,
      backend: 'TypeScript (cosines of embedding rows, no ONNX Runtime)',
      settings: { relation: props.relation, k: props.k, multi: props.multi, matrices: tied ? 'W_E = W_U (tied)' : 'W_E, W_U' },
    },
  };
}
