/**
 * Renders one attention row as the prompt's own text (analysis/attention-text.ts; the group's
 * idea of shading the text instead of drawing square markers): each token's background is
 * shaded by its weight (`shade`), and a bar under it is `width` px thick — a second channel
 * that survives greyscale printing. Lines wrap at a fixed figure width; a newline token
 * breaks the line. The query token is outlined and bold; tokens after it (which it cannot
 * see) are dimmed. Monospace text, so a token's width is known without measuring it (the
 * build has no layout engine). Each token is focusable, has a <title>, and carries
 * `data-set-controls` to make it the query on click.
 */
import type { AttentionTextToken } from '../analysis/attention-text.ts';
import type { AttentionTextFigureData } from '../figures/kinds/attention-text.ts';
import { displayPiece } from '../tokenizer/tokenizer.ts';
import { clip, pct, type RenderContext, svgEl } from './svg.ts';

const FONT = 14, CHAR_W = FONT * 0.6, PAD = 1, BOX_H = 20, MARGIN = 8, GAP = 1, CAPTION_H = 15, CAPTION_CHAR_W = 6, HUE = '#ea580c', MAX_CHARS = 24;
const FONT_FAMILY = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace';

/** What a token shows: "▁" at the start becomes a space (a gap before the token), a newline piece "↵". */
function shown(piece: string): { text: string; space: boolean; newline: boolean } {
  if (piece === '<0x0A>') return { text: '↵', space: false, newline: true };
  const d = displayPiece(piece);
  const space = d.startsWith('▁') && d.length > 1;
  return { text: clip((space ? d.slice(1) : d).replace(/▁/g, ' '), MAX_CHARS), space, newline: false };
}

/** Splits each caption at spaces into lines of at most `max` characters (SVG text does not wrap). */
function wrap(captions: string[], max: number): string[] {
  const out: string[] = [];
  for (const c of captions) {
    let line = '';
    for (const word of c.split(' ')) {
      if (line && line.length + 1 + word.length > max) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

export function tokenTitle(data: AttentionTextFigureData, t: AttentionTextToken): string {
  const who = `position ${t.position} (${displayPiece(t.text)})`;
  if (t.isQuery) return `${who}: the query · attends to itself with ${pct(t.weight)}`;
  if (t.position > data.attention.query) return `${who}: after the query, which cannot see it`;
  return `${who}: weight ${t.weight.toFixed(4)} (${pct(t.weight)})${t.shade === 0 && t.weight > 0 ? ', below the threshold' : ''}`;
}

export function attentionWho(data: AttentionTextFigureData): string {
  const a = data.attention;
  return `block ${a.layer} (blocks.${a.layer}), ${a.head === 'average' ? `mean over ${data.nHeads} heads` : `head ${a.head}`}`;
}

export function renderAttentionText(data: AttentionTextFigureData, { document }: RenderContext): SVGSVGElement {
  const a = data.attention, s = a.settings, W = data.width;
  const lineH = BOX_H + Math.ceil(s.maxWidth) + 8;
  // Place tokens: left to right, wrapping before a token that would cross the right margin.
  let x = MARGIN, line = 0;
  const placed = a.tokens.map((t) => {
    const v = shown(t.text);
    const w = [...v.text].length * CHAR_W + 2 * PAD;
    // A word's leading space is a gap before its box (not shaded), except at the start of a line.
    if (v.space && x > MARGIN) x += CHAR_W;
    if (x > MARGIN && x + w > W - MARGIN) {
      x = MARGIN;
      line++;
    }
    const p = { t, v, x, y: 4 + line * lineH, w };
    x += w + GAP;
    if (v.newline) {
      x = MARGIN;
      line++;
    }
    return p;
  });
  const lines = Math.max(...placed.map((p) => (p.y - 4) / lineH)) + 1;
  const q = a.tokens[a.query];
  const captions = wrap(
    [
      `attention of position ${a.query} (${displayPiece(q.text)}) in ${attentionWho(data)}`,
      `background and bar ∝ ${s.scale === 'max' ? 'weight / the largest weight shown' : 'weight'}${s.threshold > 0 ? `; weights below ${s.threshold} not shaded` : ''}; bar ${s.minWidth}–${s.maxWidth} px; outlined: the query; dimmed: after it`,
    ],
    Math.floor((W - 2 * MARGIN) / CAPTION_CHAR_W),
  );
  const textBottom = 4 + lines * lineH;
  const height = textBottom + 8 + captions.length * CAPTION_H;
  const svg = svgEl(document, 'svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'attention-text', width: W, height, viewBox: `0 0 ${W} ${height}`, role: 'group', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append(svgEl(document, 'title', {}, `Attention as text in ${data.provenance.model.name}: ${captions[0]}`));
  for (const { t, v, x: px, y, w } of placed) {
    const after = t.position > a.query;
    const g = svgEl(document, 'g', { class: t.isQuery ? 'token query' : 'token', tabindex: 0, 'data-pos': t.position, 'data-weight': t.weight.toFixed(6), 'data-set-controls': JSON.stringify({ query: t.position }), transform: `translate(${px.toFixed(1)},${y})` });
    g.append(svgEl(document, 'title', {}, tokenTitle(data, t)));
    const box: Record<string, string | number> = { width: w.toFixed(1), height: BOX_H, rx: 2, fill: HUE, 'fill-opacity': (0.75 * t.shade).toFixed(3) };
    if (t.isQuery) Object.assign(box, { stroke: 'currentColor', 'stroke-width': 1.5 });
    g.append(svgEl(document, 'rect', box));
    if (t.width > 0) g.append(svgEl(document, 'rect', { class: 'bar', y: BOX_H + 1, width: w.toFixed(1), height: t.width.toFixed(2), fill: HUE }));
    const text: Record<string, string | number> = { x: PAD, y: BOX_H / 2, 'dominant-baseline': 'central', 'font-family': FONT_FAMILY, 'font-size': FONT, style: 'white-space:pre' };
    if (t.isQuery) text['font-weight'] = 700;
    if (after || t.text === '<s>') text['fill-opacity'] = 0.45;
    g.append(svgEl(document, 'text', text, v.text));
    svg.append(g);
  }
  captions.forEach((c, i) => svg.append(svgEl(document, 'text', { x: MARGIN, y: textBottom + 8 + i * CAPTION_H + 4, class: 'caption', 'fill-opacity': 0.7 }, c)));
  return svg;
}
