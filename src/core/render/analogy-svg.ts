/**
 * Renders the analogy explorer as SVG: one panel per embedding matrix (W_E and W_U side by
 * side, one panel when tied), each with the top-k answers of a:b::c:? and of c + Δ_relation
 * as bars of cosine similarity, and the relation's top-k accuracy. Answers and the score are
 * focusable groups with <title>s (readable without JavaScript) for the details panel.
 */
import type { Answer, MethodScore } from '../analysis/analogy.ts';
import type { AnalogyFigureData, AnalogyPanel } from '../figures/analogy-figure.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const PANEL_W = 330, GAP = 24, PAD = 8, LINE = 16, BAR_H = 18, RANK_W = 22, LABEL_W = 92, BAR_W = 150, FILL = '#0d9488', CHAR_W = 6, MAX_LINE = 52;

type Section = 'classic' | 'averaged';

export function answerTitle(data: AnalogyFigureData, panel: number, section: Section, rank: number): string {
  const p = data.panels[panel];
  const ans = (section === 'classic' ? p.classic : p.averaged)?.answers[rank];
  if (!ans) return '';
  const what = section === 'classic' ? classicHead(data) : averagedHead(p);
  const lines = [`${displayPiece(ans.label)}: cosine ${ans.cos.toFixed(4)} (rank ${rank + 1}, token id ${ans.id})`, `${p.label}: ${what}`];
  // Untied models: where the same token ranks on the other side.
  for (const other of data.panels) {
    if (other === p) continue;
    const list = (section === 'classic' ? other.classic : other.averaged)?.answers ?? [];
    const r = list.findIndex((a) => a.id === ans.id);
    lines.push(`${other.label}: ${r >= 0 ? `rank ${r + 1}, cosine ${list[r].cos.toFixed(4)}` : `not in the top ${data.k}`}`);
  }
  return lines.join('\n');
}

const classicHead = (data: AnalogyFigureData) => `${data.query.a} : ${data.query.b} :: ${data.query.c} : ?`;
const averagedHead = (p: AnalogyPanel) => `${p.averaged!.word.word} + Δ(${p.averaged!.relation})`;
const spell = (w: { word: string; pieces: string[] }) => `${w.word} = ${w.pieces.map(displayPiece).join(' ')}`;

export function scoreLines(data: AnalogyFigureData, p: AnalogyPanel): string[] {
  const s = p.score!;
  const m = (x: MethodScore) => `top-1 ${pct(x.top1)} · top-${s.k} ${pct(x.topk)} · n = ${x.evaluated}`;
  return [
    `${s.relation}: ${s.pairs} pairs (${s.singleRowPairs} with one-token words)${s.missing.length ? `, ${s.missing.length} words missing` : ''}`,
    `averaged offset: ${m(s.averaged)}`,
    `classic: ${m(s.classic)}`,
    `chance: top-${s.k} ${pct(s.k / data.vocabSize)}`,
  ];
}

export function renderAnalogy(data: AnalogyFigureData, { document }: RenderContext): SVGSVGElement {
  const all = data.panels.flatMap((p) => [...(p.classic?.answers ?? []), ...(p.averaged?.answers ?? [])]);
  const lo = Math.min(0, ...all.map((a) => a.cos));
  const xOf = (cos: number) => RANK_W + LABEL_W + ((cos - lo) / (1 - lo)) * BAR_W;
  const panels = data.panels.map((p, i) => drawPanel(data, p, i));
  const multiNote = data.multi === 'first' ? 'a word of several tokens is its first token' : 'a word of several tokens is the mean of its tokens';
  const captions = [
    `bars: cosine similarity to w̃ over all ${data.vocabSize} rows, from ${lo.toFixed(1)} to 1; the query words' rows are never answers; ${multiNote}`,
    data.tied ? `${data.provenance.model.name} ties its embeddings (W_U = W_E): one panel` : 'left: input embedding W_E; right: unembedding W_U',
  ];
  const panelsH = Math.max(...panels.map((p) => p.height));
  const width = Math.max(data.panels.length * (PANEL_W + GAP) - GAP + 2 * PAD, Math.ceil(Math.max(...captions.map((c) => c.length)) * CHAR_W) + 2 * PAD);
  const height = PAD + panelsH + 10 + captions.length * 14 + 4;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'analogy', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Embedding analogies "${clip(data.prompt, 60)}"${data.relation ? ` with the relation ${data.relation}` : ''}, ${data.provenance.model.name}`));
  panels.forEach((p, i) => {
    p.g.setAttribute('transform', `translate(${PAD + i * (PANEL_W + GAP)},${PAD})`);
    svg.append(p.g);
  });
  captions.forEach((text, i) => svg.append(svgEl(document, 'text', { x: PAD, y: PAD + panelsH + 18 + 14 * i, class: 'caption', 'fill-opacity': 0.7 }, text)));
  return svg;

  function drawPanel(d: AnalogyFigureData, p: AnalogyPanel, index: number): { g: SVGGElement; height: number } {
    const g = svgEl(document, 'g', { class: 'panel', 'data-panel': index, 'data-matrix': p.matrix });
    let y = 0;
    const text = (s: string, attrs: Record<string, string | number> = {}) => {
      g.append(svgEl(document, 'text', { x: 0, y: y + 12, ...attrs }, clip(s, MAX_LINE)));
      y += LINE;
    };
    text(p.label, { 'font-weight': 700, 'font-size': 12, class: 'panel-label' });
    y += 4;
    const bars = (answers: Answer[], section: Section) => {
      answers.forEach((a, rank) => {
        const row = svgEl(document, 'g', { class: 'answer', tabindex: 0, 'data-panel': index, 'data-section': section, 'data-rank': rank, 'data-id': a.id, 'data-cos': a.cos.toFixed(6), transform: `translate(0,${y})` });
        row.append(svgEl(document, 'title', {}, answerTitle(d, index, section, rank)));
        row.append(svgEl(document, 'text', { x: RANK_W - 6, y: BAR_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central', 'fill-opacity': 0.6 }, String(rank + 1)));
        row.append(svgEl(document, 'text', { x: RANK_W, y: BAR_H / 2, 'dominant-baseline': 'central', class: 'answer-label' }, clip(displayPiece(a.label), 13)));
        const x0 = xOf(0), x1 = xOf(a.cos);
        row.append(svgEl(document, 'rect', { x: Math.min(x0, x1), y: 3, width: Math.max(1, Math.abs(x1 - x0)), height: BAR_H - 6, fill: FILL, 'fill-opacity': rank === 0 ? 0.9 : 0.55 }));
        row.append(svgEl(document, 'text', { x: Math.max(x0, x1) + 4, y: BAR_H / 2, 'dominant-baseline': 'central', 'font-size': 10 }, a.cos.toFixed(3)));
        g.append(row);
        y += BAR_H;
      });
      y += 6;
    };
    if (p.classic) {
      text(classicHead(d), { 'font-weight': 600, class: 'query' });
      text(`w̃ = E[${d.query.b}] − E[${d.query.a}] + E[${d.query.c}]`, { 'fill-opacity': 0.7 });
      text(Object.values(p.classic.words).map(spell).join(' · '), { 'fill-opacity': 0.7, 'font-size': 10, class: 'spelling' });
      bars(p.classic.answers, 'classic');
    }
    if (p.averaged) {
      text(averagedHead(p), { 'font-weight': 600, class: 'query' });
      text(`w̃ = E[${p.averaged.word.word}] + mean offset of ${p.averaged.pairsUsed} pairs · ${spell(p.averaged.word)}`, { 'fill-opacity': 0.7, 'font-size': 10 });
      bars(p.averaged.answers, 'averaged');
    }
    if (p.score) {
      const lines = scoreLines(d, p);
      const sg = svgEl(document, 'g', { class: 'score', tabindex: 0, 'data-panel': index, transform: `translate(0,${y})` });
      const skipped = (x: MethodScore, what: string) => (x.skipped ? [`${what}: ${x.skipped} questions skipped (the expected token is a query word's token)`] : []);
      const how = ['averaged offset: Δ from the other pairs (leave-one-out); classic: every ordered pair of pairs (one the example, one the question)', ...skipped(p.score.averaged, 'averaged offset'), ...skipped(p.score.classic, 'classic')].join('\n');
      sg.append(svgEl(document, 'title', {}, [...lines, how, ...p.score.averaged.details.map((x) => `${x.a} → ${x.b}: rank ${x.rank}, top ${displayPiece(x.answers[0]?.label ?? '')}`)].join('\n')));
      lines.forEach((s, i) => sg.append(svgEl(document, 'text', { x: 0, y: 12 + i * LINE, 'font-weight': i === 0 ? 600 : 400 }, clip(s, MAX_LINE))));
      g.append(sg);
      y += lines.length * LINE + 4;
    }
    return { g, height: y };
  }
}
