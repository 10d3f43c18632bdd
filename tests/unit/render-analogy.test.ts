/** The analogy explorer: its parser, the averaged offset, the renderer on hand-made spaces, and the figure on stories260K. */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { type AnalogyOptions, classicAnalogy, evaluateRelation, modelSpace, type VectorSpace } from '../../src/core/analysis/analogy.ts';
import type { RelationSet } from '../../src/core/analysis/relations/index.ts';
import { analogyFigure, type AnalogyFigureData, averagedOffset, parseAnalogy } from '../../src/core/figures/analogy-figure.ts';
import { ANALOGY_CSV_HEADER, analogyCsv, analogyKind } from '../../src/core/figures/kinds/analogy.ts';
import { answerTitle, renderAnalogy } from '../../src/core/render/analogy-svg.ts';
import { AnalogyExplorerProps, parseProps } from '../../src/site/props.ts';
import { openModel } from '../../src/node/open-model.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

function space(name: string, rows: Record<string, number[]>): VectorSpace {
  const names = Object.keys(rows);
  return {
    name,
    rows: Float32Array.from(names.flatMap((n) => rows[n])),
    count: names.length,
    dims: rows[names[0]].length,
    label: (id) => names[id],
    lookup: (w) => (w in rows ? [names.indexOf(w)] : null),
    lookupNote: 'by name',
  };
}

// Offsets Paris−France = (0,0,1), Rome−Italy = (0,0,1.2), Madrid−Spain = (0,0,0.8).
const ROWS = { France: [1, 0, 0], Paris: [1, 0, 1], Italy: [0, 1, 0], Rome: [0, 1, 1.2], Spain: [1, 1, 0], Madrid: [1, 1, 0.8], wine: [0.2, 1, 0.1], beach: [0, 0, 1] };
const REL: RelationSet = { name: 'capital', description: 'country → capital', pairs: [['France', 'Paris'], ['Italy', 'Rome'], ['Spain', 'Madrid']] };
const OPTS: AnalogyOptions = { k: 3, multi: 'first' };

describe('parseAnalogy', () => {
  it('reads a:b::c:?, with or without the final ":?", spaces trimmed, words with spaces kept', () => {
    expect(parseAnalogy('man:king::woman:?')).toEqual({ a: 'man', b: 'king', c: 'woman' });
    expect(parseAnalogy('  man : king :: woman : ? ')).toEqual({ a: 'man', b: 'king', c: 'woman' });
    expect(parseAnalogy('man:king::woman')).toEqual({ a: 'man', b: 'king', c: 'woman' });
    expect(parseAnalogy('France:Paris::New Zealand:?')).toEqual({ a: 'France', b: 'Paris', c: 'New Zealand' });
  });
  it('reads a word alone as "c:?"', () => {
    expect(parseAnalogy('France:?')).toEqual({ c: 'France' });
  });
  it('says what is wrong', () => {
    expect(() => parseAnalogy('man king woman')).toThrow('expected an analogy like "man:king::woman:?" (a:b::c:?), or a word alone like "France:?" with a relation chosen; found no "::" in "man king woman"');
    expect(() => parseAnalogy('man::woman:?')).toThrow('expected "a:b" before "::", found 1 part');
    expect(() => parseAnalogy('a:b:c::d:?')).toThrow('found 3 parts');
    expect(() => parseAnalogy('man:king::woman:?::x')).toThrow('found "::" more than once');
    expect(() => parseAnalogy('man: ::woman:?')).toThrow('word b is empty');
    expect(() => parseAnalogy('man:king::wo?man')).toThrow('word c ("wo?man") holds a ":" or "?"');
  });
  it('the props schema refuses a malformed analogy at build time with the same message', () => {
    expect(() => parseProps(AnalogyExplorerProps, { prompt: 'king - man' }, 'AnalogyExplorer')).toThrow(/<AnalogyExplorer> has invalid props[\s\S]*prompt: expected an analogy like/);
    expect(parseProps(AnalogyExplorerProps, { prompt: 'man:king::woman:?' }, 'AnalogyExplorer')).toMatchObject({ relation: 'none', k: 5, multi: 'first' });
  });
});

describe('averagedOffset', () => {
  const s = space('hand-made', ROWS);
  it('a word of the set: its own pair left out (Italy + mean of the other two offsets)', () => {
    // w = Italy + (0,0,0.9) = (0,1,0.9): cos(w, Rome) = 2.08/(√1.81·√2.44) = 0.98976 (analogy.test.ts).
    const r = averagedOffset(s, REL, 'Italy', OPTS);
    expect(r.pairsUsed).toBe(2);
    expect(r.answers[0].label).toBe('Rome');
    expect(r.answers[0].cos).toBeCloseTo(2.08 / Math.sqrt(1.81 * 2.44), 6);
  });
  it('a word outside the set: the mean of every offset, only its own row excluded', () => {
    // w = wine + (0,0,1) = (0.2,1,1.1); cosines by numpy in float64 from the float32 rows.
    const r = averagedOffset(s, REL, 'wine', OPTS);
    expect(r.pairsUsed).toBe(3);
    expect(r.answers.map((a) => a.label)).toEqual(['Rome', 'Madrid', 'beach']);
    [0.9901518709843059, 0.8534343388501273, 0.7333333397205964].forEach((c, i) => expect(r.answers[i].cos).toBeCloseTo(c, 6));
  });
  it('an unknown word is a clear error', () => {
    expect(() => averagedOffset(s, REL, 'Peru', OPTS)).toThrow('"Peru" is not in hand-made (by name)');
  });
});

/** Two panels (an "untied" model): W_E holds the relation, W_U is a different space. */
function handFigure(): AnalogyFigureData {
  const inS = space('W_E', ROWS);
  const outS = space('W_U', { ...ROWS, Rome: [1, 0, 0.2], wine: [0, 1, 1.1], beach: [0.5, 0.5, 0.5] });
  const panel = (s: VectorSpace, matrix: 'in' | 'out', label: string) => ({
    matrix, label,
    classic: classicAnalogy(s, 'France', 'Paris', 'Italy', OPTS),
    averaged: averagedOffset(s, REL, 'Italy', OPTS),
    score: evaluateRelation(s, REL, OPTS),
  });
  return {
    kind: 'analogy',
    prompt: 'France:Paris::Italy:?',
    query: { a: 'France', b: 'Paris', c: 'Italy' },
    tied: false,
    k: 3,
    multi: 'first',
    relation: 'capital',
    vocabSize: 8,
    panels: [panel(inS, 'in', 'W_E (input embedding)'), panel(outS, 'out', 'W_U (unembedding)')],
    provenance: { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: { relation: 'capital' } },
  };
}

describe('analogy renderer', () => {
  const doc = staticDocument();
  const data = handFigure();
  const svg = renderAnalogy(data, { document: doc });
  const tiedClassic: AnalogyFigureData = { ...data, tied: true, relation: null, panels: [{ ...data.panels[0], label: 'W_E = W_U (tied)', averaged: null, score: null }], prompt: '<b>x</b>' };

  it('matches the committed SVG snapshots (two panels with relation; one tied panel, classic only)', () => {
    for (const [name, out] of [['analogy-two-panels', svg], ['analogy-tied-classic', renderAnalogy(tiedClassic, { document: doc })]] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('draws panels side by side with k focusable answers per query, and the score', () => {
    expect(svg.querySelectorAll('g.panel').length).toBe(2);
    expect(svg.querySelectorAll('g.answer').length).toBe(2 * 2 * 3);
    expect([...svg.querySelectorAll('g.answer, g.score')].every((g) => g.getAttribute('tabindex') === '0')).toBe(true);
    expect(svg.querySelector('g.panel[data-panel="1"]')!.getAttribute('transform')).toBe('translate(362,8)');
    expect(svg.querySelector('g.score')!.textContent).toContain('averaged offset: top-1 100% · top-3 100% · n = 3');
    // Bar lengths are proportional to the cosine on [lo, 1] (lo = 0 unless a cosine is negative).
    const widths = [...svg.querySelectorAll('g.panel[data-panel="0"] g.answer[data-section="averaged"] rect')].map((r) => Number(r.getAttribute('width')));
    const cos = data.panels[0].averaged!.answers.map((a) => a.cos);
    const lo = Math.min(0, ...data.panels.flatMap((p) => [...p.classic!.answers, ...p.averaged!.answers].map((a) => a.cos)));
    widths.forEach((w, i) => expect(w).toBeCloseTo((150 * (cos[i] - lo)) / (1 - lo), 6));
  });

  it('titles and details compare the answer across matrices; the score lists each pair', () => {
    expect(answerTitle(data, 0, 'averaged', 0)).toBe(`Rome: cosine ${data.panels[0].averaged!.answers[0].cos.toFixed(4)} (rank 1, token id 3)\nW_E (input embedding): Italy + Δ(capital)\nW_U (unembedding): ${(() => { const r = data.panels[1].averaged!.answers.findIndex((a) => a.label === 'Rome'); return r >= 0 ? `rank ${r + 1}, cosine ${data.panels[1].averaged!.answers[r].cos.toFixed(4)}` : 'not in the top 3'; })()}`);
    const score = analogyKind.details!(data, svg.querySelector('g.score text')!)!;
    expect(score.items).toEqual(data.panels[0].score!.averaged.details.map((d) => `${d.a} → ${d.b}: rank ${d.rank}; top answers ${d.answers.map((a) => a.label).join(', ')}`));
    expect(analogyKind.details!(data, svg)).toBeNull();
  });

  it('renders words and tokens as text only', () => {
    const out = renderAnalogy({ ...tiedClassic, panels: [{ ...tiedClassic.panels[0], classic: { ...tiedClassic.panels[0].classic!, answers: [{ id: 9, label: '<img src=x onerror=alert(1)>', cos: 0.5 }] } }] }, { document: doc });
    expect(out.querySelector('img')).toBeNull();
    expect(parseHTML(`<!doctype html><body>${out.outerHTML}`).document.querySelector('img, b')).toBeNull();
    // Shown as displayPiece shows tokens (a space as \x20), clipped on the bar, whole in the title.
    expect(out.querySelector('.answer-label')!.textContent).toBe('<img\\x20src=…');
    expect(out.outerHTML).toContain('<title>&lt;img\\x20src=x\\x20onerror=alert(1)&gt;: cosine 0.5000');
  });

  it('exports one CSV line per answer, per relation pair answer included', () => {
    const csv = analogyCsv(data).trimEnd().split('\r\n');
    expect(csv[0]).toBe(ANALOGY_CSV_HEADER.join(','));
    expect(csv).toHaveLength(1 + 2 * (3 + 3 + 3 * 3));
    expect(csv[1]).toBe(`W_E (input embedding),classic,France:Paris::Italy:?,,,1,3,Rome,${data.panels[0].classic!.answers[0].cos}`);
    expect(csv).toContain(`W_E (input embedding),relation capital,Italy + Δ,Rome,1,1,3,Rome,${data.panels[0].score!.averaged.details[1].answers[0].cos}`);
  });
});

describe('analogy figure on stories260K (tied)', async () => {
  const m = await openModel('stories260K');
  const ctx = { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' };

  it('one panel; classic, averaged and score are what analogy.ts computes on W_E', async () => {
    const data = await analogyFigure(ctx, { prompt: 'boy:girl::he:?', relation: 'male-female', k: 5, multi: 'first' });
    const s = modelSpace(m.model, m.tokenizer, 'in', 'stories260K');
    expect(data.tied).toBe(true);
    expect(data.panels).toHaveLength(1);
    expect(data.panels[0].classic).toEqual(classicAnalogy(s, 'boy', 'girl', 'he', { k: 5, multi: 'first' }));
    expect(data.panels[0].averaged!.answers[0].label).toBe('▁she'); // "he" is in the set: Δ from the other 20 pairs
    expect(data.panels[0].averaged!.pairsUsed).toBe(20);
  });

  it('a word alone needs a relation; an unknown relation is named', async () => {
    await expect(analogyFigure(ctx, { prompt: 'France:?', relation: 'none', k: 5, multi: 'first' })).rejects.toThrow('"France:?" names one word only: choose a relation');
    await expect(analogyFigure(ctx, { prompt: 'France:?', relation: 'colours', k: 5, multi: 'first' })).rejects.toThrow('unknown relation "colours": expected none or one of capital-of');
  });
});
