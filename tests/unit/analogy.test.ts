/** Embedding analogies (core/analysis/analogy.ts): hand-computed spaces, stories260K, a random Mistral-shaped model. */
import { describe, expect, it } from 'vitest';
import { classicAnalogy, evaluateRelation, modelSpace, type VectorSpace } from '../../src/core/analysis/analogy.ts';
import { RELATIONS, type RelationSet } from '../../src/core/analysis/relations/index.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { TextTokenizer } from '../../src/core/tokenizer/tokenizer.ts';
import { openModel } from '../../src/node/open-model.ts';

/** A space from named rows; `spell` maps a word to several row names (a "tokenizer"). */
function space(rows: Record<string, number[]>, spell: Record<string, string[]> = {}): VectorSpace {
  const names = Object.keys(rows);
  const dims = rows[names[0]].length;
  return {
    name: 'hand-made',
    rows: Float32Array.from(names.flatMap((n) => rows[n])),
    count: names.length,
    dims,
    label: (id) => names[id],
    lookup: (w) => (spell[w] ?? (w in rows ? [w] : null))?.map((n) => names.indexOf(n)) ?? null,
    lookupNote: 'by name',
  };
}

describe('classic analogy, by hand', () => {
  // w = king − man + woman = (1,1) − (1,0) + (0,1) = (0,2).
  // cos(w, queen=(−1,2)) = 4/(2·√5) = 2/√5; apple=(−1,0): 0; dog=(1,−1): −2/(2·√2) = −1/√2.
  // woman=(0,1) has cos 1 and would win if query words were not excluded.
  const s = space({ man: [1, 0], king: [1, 1], woman: [0, 1], queen: [-1, 2], apple: [-1, 0], dog: [1, -1] });
  it('answers queen, with the query words excluded', () => {
    const r = classicAnalogy(s, 'man', 'king', 'woman', { k: 3, multi: 'first' });
    expect(r.answers.map((a) => a.label)).toEqual(['queen', 'apple', 'dog']);
    expect(r.answers[0].cos).toBeCloseTo(2 / Math.sqrt(5), 12);
    expect(r.answers[1].cos).toBeCloseTo(0, 12);
    expect(r.answers[2].cos).toBeCloseTo(-1 / Math.sqrt(2), 12);
    expect(r.excluded.sort()).toEqual(['king', 'man', 'woman']);
  });
  it('an unknown word is a clear error', () => {
    expect(() => classicAnalogy(s, 'man', 'king', 'girl', { k: 3, multi: 'first' })).toThrow(/"girl" is not in hand-made \(by name\)/);
  });
  it('k outside 1..rows is refused', () => {
    expect(() => classicAnalogy(s, 'man', 'king', 'woman', { k: 7, multi: 'first' })).toThrow(/k must be a whole number from 1 to 6, got 7/);
  });
});

describe('averaged offset, leave-one-out, by hand', () => {
  // Offsets: Paris−France = (0,0,1), Rome−Italy = (0,0,1.2), Madrid−Spain = (0,0,0.8).
  // Italy: Δ = mean of the other two = (0,0,0.9); w = (0,1,0.9);
  //   cos(w, Rome=(0,1,1.2)) = 2.08/(√1.81·√2.44) = 0.98976; wine=(0.2,1,0.1): 1.09/(√1.81·√1.05) = 0.79067.
  // Spain: Δ = (0,0,1.1); cos(w=(1,1,1.1), Madrid) = 2.88/(√3.21·√2.64) = 0.98932.
  const s = space({ France: [1, 0, 0], Paris: [1, 0, 1], Italy: [0, 1, 0], Rome: [0, 1, 1.2], Spain: [1, 1, 0], Madrid: [1, 1, 0.8], wine: [0.2, 1, 0.1], beach: [0, 0, 1] });
  const rel: RelationSet = { name: 'capital', description: '', pairs: [['France', 'Paris'], ['Italy', 'Rome'], ['Spain', 'Madrid']] };
  it('finds every capital; top answers and ranks as computed by hand', () => {
    const r = evaluateRelation(s, rel, { k: 2, multi: 'first' });
    expect(r.averaged.details.map((d) => d.answers.map((x) => x.label))).toEqual([['Paris', 'Madrid'], ['Rome', 'wine'], ['Madrid', 'Rome']]);
    expect(r.averaged.details[0].answers[0].cos).toBeCloseTo(1, 12);
    expect(r.averaged.details[1].answers[0].cos).toBeCloseTo(2.08 / Math.sqrt(1.81 * 2.44), 6); // 0.98976
    expect(r.averaged.details[1].answers[1].cos).toBeCloseTo(1.09 / Math.sqrt(1.81 * 1.05), 6); // 0.79067
    expect(r.averaged.details[2].answers[0].cos).toBeCloseTo(2.88 / Math.sqrt(3.21 * 2.64), 6); // 0.98932
    expect(r.averaged.details.map((d) => d.rank)).toEqual([1, 1, 1]);
    expect(r.averaged).toMatchObject({ evaluated: 3, skipped: 0, top1: 1, topk: 1 });
    expect(r.classic).toMatchObject({ evaluated: 6, skipped: 0, top1: 1, topk: 1 });
    const italy = classicAnalogy(s, 'France', 'Paris', 'Italy', { k: 1, multi: 'first' });
    expect(italy.answers[0].cos).toBeCloseTo(2.2 / (Math.SQRT2 * Math.sqrt(2.44)), 6); // w = (0,1,1); rows are float32 (1.2 is not exact)
  });
  it('a pair whose words are missing is left out and named', () => {
    const r = evaluateRelation(s, { ...rel, pairs: [...rel.pairs, ['Peru', 'Lima']] }, { k: 2, multi: 'first' });
    expect(r.missing).toEqual(['Peru', 'Lima']);
    expect(r.pairs).toBe(3);
  });
});

describe('multi-token words', () => {
  // "Rome" is spelled by two rows: r1 = (0,1,0) and r2 = (0,1,2); its mean is (0,1,1).
  const s = space({ France: [1, 0, 0], Paris: [1, 0, 1], Italy: [0, 1, 0], r1: [0, 1, 0], r2: [0, 1, 2], x: [0, 0.2, 1] }, { Rome: ['r1', 'r2'] });
  it('first: the first row stands for the word, and only it is excluded', () => {
    const r = classicAnalogy(s, 'Italy', 'Rome', 'France', { k: 2, multi: 'first' }); // w = r1 − Italy + France = (1,0,0): Paris 1/√2, the others 0
    expect(r.words.b.pieces).toEqual(['r1', 'r2']);
    expect(r.excluded.sort()).toEqual(['France', 'Italy', 'r1']);
    expect(r.answers[0].label).toBe('Paris');
    expect(r.answers[0].cos).toBeCloseTo(Math.SQRT1_2, 7);
  });
  it('mean: the mean of the rows stands for the word, and all its rows are excluded', () => {
    const r = classicAnalogy(s, 'Italy', 'Rome', 'France', { k: 1, multi: 'mean' }); // w = (0,1,1) − Italy + France = (1,0,1) = Paris
    expect(r.excluded.sort()).toEqual(['France', 'Italy', 'r1', 'r2']);
    expect(r.answers[0]).toMatchObject({ label: 'Paris' });
    expect(r.answers[0].cos).toBeCloseTo(1, 12);
  });
  it('a question whose expected first row is a query row is skipped, not scored', () => {
    // "Roma" shares the row r1 with "Rome": asking Rome → Roma excludes r1 = Roma's expected row.
    const t = space({ a: [1, 0, 0], b: [1, 0, 1], r1: [0, 1, 0], r2: [0, 1, 2], r3: [0, 1, 3] }, { Rome: ['r1', 'r2'], Roma: ['r1', 'r3'] });
    const r = evaluateRelation(t, { name: 'x', description: '', pairs: [['a', 'b'], ['Rome', 'Roma']] }, { k: 1, multi: 'first' });
    expect(r.averaged.skipped).toBe(1);
    expect(r.averaged.evaluated).toBe(1);
  });
});

describe('stories260K (tied, 512 tokens)', async () => {
  const m = await openModel('stories260K');
  const inS = modelSpace(m.model, m.tokenizer, 'in', 'stories260K');
  const outS = modelSpace(m.model, m.tokenizer, 'out', 'stories260K');

  it('words are looked up as "▁" + word; a leading lone "▁" is dropped', () => {
    expect(inS.lookup('Lily')!.map((id) => m.tokenizer.piece(id))).toEqual(['▁Lily']);
    expect(inS.lookup('big')!.map((id) => m.tokenizer.piece(id))).toEqual(['▁big']);
    expect(inS.lookup('France')!.map((id) => m.tokenizer.piece(id))).toEqual(['F', 'r', 'an', 'ce']);
  });

  it('W_E and W_U give the same answers (tied) and the answers are cosines of the rows', () => {
    const a = classicAnalogy(inS, 'he', 'she', 'his', { k: 5, multi: 'first' });
    const b = classicAnalogy(outS, 'he', 'she', 'his', { k: 5, multi: 'first' });
    expect(b.answers).toEqual(a.answers);
    expect(outS.name).toMatch(/tied/);
    // Independent check of the top answer's cosine, float64 from the raw rows.
    const row = (w: string) => Array.from(m.model.weights.W_E.subarray(inS.lookup(w)![0] * 64, inS.lookup(w)![0] * 64 + 64));
    const q = row('she').map((x, j) => x - row('he')[j] + row('his')[j]);
    const top = Array.from(m.model.weights.W_E.subarray(a.answers[0].id * 64, a.answers[0].id * 64 + 64));
    const dot = q.reduce((t, x, j) => t + x * top[j], 0);
    expect(a.answers[0].cos).toBeCloseTo(dot / Math.hypot(...q) / Math.hypot(...top), 10);
  });

  it('every relation set runs with first and mean; accuracies are fractions of the questions asked', () => {
    for (const multi of ['first', 'mean'] as const) {
      for (const rel of Object.values(RELATIONS)) {
        const r = evaluateRelation(inS, rel, { k: 5, multi });
        expect(r.pairs).toBe(rel.pairs.length); // SentencePiece can spell every word
        expect(r.averaged.evaluated + r.averaged.skipped).toBe(r.pairs);
        expect(r.classic.evaluated + r.classic.skipped).toBe(r.pairs * (r.pairs - 1));
        for (const x of [r.averaged.top1, r.averaged.topk, r.classic.top1, r.classic.topk]) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
        }
        expect(r.averaged.topk).toBeGreaterThanOrEqual(r.averaged.top1);
      }
    }
  });
});

describe('random Mistral-shaped model (untied, 32000 × 64): a relation planted in W_E only', () => {
  const model = randomModel(tinyConfig('mistral'), 99);
  const d = model.config.d_model;
  // Plant b_i = a_i + δ (+ small noise) in W_E for 20 pairs; W_U stays random.
  const rand = mulberry32(5);
  const delta = Array.from({ length: d }, () => 2 * (rand() - 0.5) * 2);
  const pairs: [string, string][] = Array.from({ length: 20 }, (_, i) => [`w${1000 + i}`, `w${2000 + i}`]);
  for (const [a, b] of pairs) {
    const ia = Number(a.slice(1)), ib = Number(b.slice(1));
    for (let j = 0; j < d; j++) model.weights.W_E[ib * d + j] = model.weights.W_E[ia * d + j] + delta[j] + 0.1 * (rand() - 0.5);
  }
  const tok = { piece: (id: number) => `w${id}`, encode: (w: string) => [Number(w.slice(1))] } as unknown as TextTokenizer;
  const rel: RelationSet = { name: 'planted', description: '', pairs };

  it('W_E: the averaged offset finds every planted pair; W_U (untied, random): almost none', () => {
    const inR = evaluateRelation(modelSpace(model, tok, 'in', 'random-mistral'), rel, { k: 5, multi: 'first' });
    const outR = evaluateRelation(modelSpace(model, tok, 'out', 'random-mistral'), rel, { k: 5, multi: 'first' });
    expect(inR.averaged.top1).toBe(1);
    expect(inR.classic.top1).toBeGreaterThan(0.9);
    expect(outR.averaged.topk).toBeLessThan(0.1); // chance is about 5/32000
    expect(outR.space).toMatch(/^W_U \(unembedding\) of random-mistral$/);
  });
});
