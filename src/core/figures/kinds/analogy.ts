/** The analogy-explorer figure kind: a:b::c:? and averaged offsets on W_E and W_U (see analogy-figure.ts). */
import { RELATIONS } from '../../analysis/relations/index.ts';
import { answerTitle, renderAnalogy, scoreLines } from '../../render/analogy-svg.ts';
import { displayPiece } from '../../tokenizer/tokenizer.ts';
import { analogyFigure, type AnalogyFigureData, type AnalogyFigureProps } from '../analogy-figure.ts';
import { type CsvValue, toCsv } from '../csv.ts';
import type { FigureKind } from '../figure-kind.ts';

export const ANALOGY_CSV_HEADER = ['matrix', 'section', 'query', 'expected', 'expected_rank', 'rank', 'token_id', 'token', 'cosine'] as const;

/** One line per answer: classic, averaged offset, and each relation pair's leave-one-out answers. */
export function analogyCsv(data: AnalogyFigureData): string {
  const rows: CsvValue[][] = [];
  const q = data.query;
  for (const p of data.panels) {
    p.classic?.answers.forEach((a, i) => rows.push([p.label, 'classic', `${q.a}:${q.b}::${q.c}:?`, '', '', i + 1, a.id, a.label, a.cos]));
    p.averaged?.answers.forEach((a, i) => rows.push([p.label, 'averaged', `${p.averaged!.word.word} + Δ(${p.averaged!.relation})`, '', '', i + 1, a.id, a.label, a.cos]));
    for (const d of p.score?.averaged.details ?? []) d.answers.forEach((a, i) => rows.push([p.label, `relation ${p.score!.relation}`, `${d.a} + Δ`, d.b, d.rank, i + 1, a.id, a.label, a.cos]));
  }
  return toCsv(ANALOGY_CSV_HEADER, rows);
}

export const analogyKind: FigureKind<AnalogyFigureProps, AnalogyFigureData> = {
  kind: 'analogy',
  controls: [
    { name: 'relation', label: 'Relation', type: 'select', options: ['none', ...Object.keys(RELATIONS)] },
    { name: 'multi', label: 'Words of several tokens', type: 'select', options: [{ value: 'first', label: 'first token' }, { value: 'mean', label: 'mean of tokens' }] },
    { name: 'k', label: 'Answers', type: 'number', min: 1, max: 20 },
  ],
  compute: (ctx, p) => analogyFigure(ctx, p),
  render: (data, ctx) => renderAnalogy(data, ctx),
  csv: analogyCsv,
  details(data, target) {
    const answer = target.closest?.('g.answer');
    if (answer) {
      const panel = Number(answer.getAttribute('data-panel')), rank = Number(answer.getAttribute('data-rank'));
      const section = answer.getAttribute('data-section') === 'averaged' ? 'averaged' : 'classic';
      const [title, ...items] = answerTitle(data, panel, section, rank).split('\n');
      return title ? { title, items } : null;
    }
    const score = target.closest?.('g.score');
    const p = score && data.panels[Number(score.getAttribute('data-panel'))];
    if (!p || !p.score) return null;
    return {
      title: `${p.label} · ${scoreLines(data, p).slice(0, 3).join(' · ')}`,
      items: p.score.averaged.details.map((d) => `${d.a} → ${d.b}: rank ${d.rank}; top answers ${d.answers.slice(0, 3).map((a) => displayPiece(a.label)).join(', ')}`),
    };
  },
};
