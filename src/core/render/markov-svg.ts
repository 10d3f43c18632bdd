/**
 * Renders the Markov probe as an SVG table: one row per source token x with its count, the
 * corpus bigram's top-k P(y|x) and the probe's top-k Q(y|x) (cells shaded by probability,
 * tokens in both lists in bold), the rank of the bigram's favourite in Q, and KL(P‖Q_ε).
 * The aggregate agreement over all sources, with its baselines, is the caption. Rows are
 * focusable groups whose <title> lists both distributions (readable without JavaScript).
 */
import type { MarkovFigureData, MarkovFigureRow } from '../figures/markov-figure.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const ROW_H = 20, HEAD_H = 22, X_W = 78, COUNT_W = 52, ITEM_W = 58, RANK_W = 46, KL_W = 52, GAP = 10, CHAR_W = 6, PAD = 4;
const P_FILL = '#2563eb', Q_FILL = '#ea580c';

const fmt = (x: number | null, digits = 2) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));

export function markovRowTitle(data: MarkovFigureData, row: MarkovFigureRow): string {
  const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
  const lines = [`x = ${piece(row.x)}: c(x) = ${row.count}${row.inAggregate ? '' : ` (below ${data.minCount}: not in the aggregates)`}`];
  lines.push(`bigram P(y|x): ${row.pTop.length ? row.pTop.map((t) => `${piece(t.id)} ${pct(t.p)}`).join(', ') : 'x is never followed by a token in the corpus'}`);
  lines.push(`probe Q(y|x): ${row.qTop.map((t) => `${piece(t.id)} ${pct(t.q)}`).join(', ')}`);
  if (row.rankInQ !== null) lines.push(`rank of ${piece(row.pTop[0].id)} (argmax P) in Q: ${row.rankInQ} of ${data.vocabSize}`);
  if (row.kl !== null) lines.push(`KL(P‖Q_ε) ${fmt(row.kl, 3)} nats · Spearman ρ ${fmt(row.spearman)} · Jaccard@${data.k} ${fmt(row.jaccard)}`);
  lines.push(`Q(x|x) = ${row.qSelf.toFixed(3)}, rank of x in Q(·|x): ${row.selfRank}`);
  return lines.join('\n');
}

export function markovCaptions(data: MarkovFigureData): string[] {
  const { aggregate: a, corpus: c, k } = data;
  const q = data.norm === 'none' ? 'Q(y|x) = softmax(W_E[x]·W_Uᵀ)' : 'Q(y|x) = softmax(RMSNorm_γ(W_E[x])·W_Uᵀ)';
  const sampled = c.sampledFrom ? `, text sampled from ${c.sampledFrom} (seed ${c.seed}, temperature ${c.temperature})` : '';
  const id = a.identity;
  return [
    `${q}${data.tied ? ' (tied: W_U = W_E)' : ''} beside the bigram model P(y|x) = c(x y)/c(x) of a corpus`,
    `corpus ${c.file}: ${c.documents} documents, ${c.pairs.toLocaleString('en-US')} pairs${sampled}`,
    `over ${a.evaluated} source tokens with c(x) ≥ ${data.minCount}: top-${k} agreement ${pct(a.means.topkAgreement)} (unigram ${pct(a.baselines.unigram.topkAgreement)}, chance ${pct(a.baselines.chanceTopK)}) · top-1 ${pct(a.means.top1Agreement)} · median rank ${a.means.medianRank} · Spearman ρ ${fmt(a.means.spearman)}`,
    `KL(P‖Q_ε) ${fmt(a.means.kl)} nats (unigram ${fmt(a.baselines.unigram.kl)}) · Jaccard@${k} ${fmt(a.means.jaccard, 3)} (unigram ${fmt(a.baselines.unigram.jaccard, 3)})`,
    `identity: argmax Q(·|x) = x for ${pct(id.evaluated.argmaxIsSelf)} of these tokens${id.vocab ? ` and ${pct(id.vocab.argmaxIsSelf)} of the whole vocabulary` : ''}; mean Q(x|x) ${id.evaluated.meanQSelf.toFixed(3)}`,
    `bold: in both top-${k} lists · rank: of argmax P in Q(·|x) among ${data.vocabSize} tokens · faded: c(x) < ${data.minCount} · —: x never followed by a token`,
  ];
}

export function renderMarkov(data: MarkovFigureData, { document }: RenderContext): SVGSVGElement {
  const k = data.k;
  const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
  const colP = X_W + COUNT_W + GAP, colQ = colP + k * ITEM_W + GAP, colRank = colQ + k * ITEM_W + GAP, colKl = colRank + RANK_W;
  const tableW = colKl + KL_W;
  const captions = markovCaptions(data);
  const tableH = HEAD_H + data.rows.length * ROW_H;
  const width = PAD * 2 + Math.max(tableW, Math.ceil(Math.max(...captions.map((c) => c.length)) * CHAR_W));
  const height = PAD + tableH + 12 + captions.length * 14 + 4;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'markov', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `First-order (Markov) probe of ${data.provenance.model.name}: Q(y|x) from W_E and W_U beside corpus bigrams P(y|x)`));
  const table = svgEl(document, 'g', { transform: `translate(${PAD},${PAD})` });
  svg.append(table);
  const head = (x: number, text: string, anchor = 'start') => table.append(svgEl(document, 'text', { x, y: 14, 'font-weight': 600, 'text-anchor': anchor, class: 'column-head' }, text));
  head(0, 'x');
  head(X_W + COUNT_W - 4, 'c(x)', 'end');
  head(colP, `bigram P(y|x), top ${k}`);
  head(colQ, `probe Q(y|x), top ${k}`);
  head(colRank + RANK_W - 6, 'rank', 'end');
  head(colKl + KL_W - 4, 'KL', 'end');

  data.rows.forEach((row, i) => {
    const shared = new Set(row.pTop.slice(0, k).map((t) => t.id).filter((id) => row.qTop.some((t) => t.id === id)));
    const g = svgEl(document, 'g', { class: 'row', tabindex: 0, 'data-row': i, 'data-x': row.x, 'data-count': row.count, transform: `translate(0,${HEAD_H + i * ROW_H})`, 'fill-opacity': row.inAggregate ? 1 : 0.6 });
    g.append(svgEl(document, 'title', {}, markovRowTitle(data, row)));
    g.append(svgEl(document, 'rect', { class: 'row-bg', width: tableW, height: ROW_H, fill: 'currentColor', 'fill-opacity': i % 2 ? 0.04 : 0 }));
    const mid = { y: ROW_H / 2, 'dominant-baseline': 'central' };
    g.append(svgEl(document, 'text', { x: 0, ...mid, 'font-weight': 600, class: 'source' }, clip(piece(row.x), 12)));
    g.append(svgEl(document, 'text', { x: X_W + COUNT_W - 4, ...mid, 'text-anchor': 'end' }, String(row.count)));
    const items = (x0: number, list: { id: number; v: number }[], fill: string, cls: string) => {
      list.slice(0, k).forEach((t, j) => {
        const item = svgEl(document, 'g', { class: cls, 'data-id': t.id, 'data-p': t.v.toFixed(6), transform: `translate(${x0 + j * ITEM_W},1)` });
        item.append(svgEl(document, 'title', {}, `${piece(t.id)} ${pct(t.v)}`));
        const o = Math.max(0.04, Math.min(1, t.v));
        item.append(svgEl(document, 'rect', { width: ITEM_W - 2, height: ROW_H - 2, fill, 'fill-opacity': o.toFixed(3) }));
        item.append(svgEl(document, 'text', { x: (ITEM_W - 2) / 2, y: (ROW_H - 2) / 2, 'dominant-baseline': 'central', 'text-anchor': 'middle', fill: o > 0.55 ? '#fff' : 'currentColor', 'font-weight': shared.has(t.id) ? 700 : 400 }, clip(piece(t.id), 8)));
        g.append(item);
      });
    };
    if (row.pTop.length === 0) g.append(svgEl(document, 'text', { x: colP + 4, ...mid, 'fill-opacity': 0.6, class: 'no-bigram' }, '—'));
    items(colP, row.pTop.map((t) => ({ id: t.id, v: t.p })), P_FILL, 'p-item');
    items(colQ, row.qTop.map((t) => ({ id: t.id, v: t.q })), Q_FILL, 'q-item');
    g.append(svgEl(document, 'text', { x: colRank + RANK_W - 6, ...mid, 'text-anchor': 'end' }, row.rankInQ === null ? '—' : String(row.rankInQ)));
    g.append(svgEl(document, 'text', { x: colKl + KL_W - 4, ...mid, 'text-anchor': 'end' }, fmt(row.kl)));
    table.append(g);
  });
  captions.forEach((text, i) => svg.append(svgEl(document, 'text', { x: PAD, y: PAD + tableH + 18 + 14 * i, class: 'caption', 'fill-opacity': i === 2 ? 1 : 0.7 }, text)));
  return svg;
}
