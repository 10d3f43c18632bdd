/** The gradient-map figure kind: ‖∂logit/∂state‖ per state and position (see gradient-figure.ts). */
import { gradientCellTitle, renderGradient, targetText } from '../../render/gradient-svg.ts';
import { pct } from '../../render/svg.ts';
import { displayPiece } from '../../tokenizer/tokenizer.ts';
import { toCsv } from '../csv.ts';
import type { FigureKind } from '../figure-kind.ts';
import { gradientFigure, type GradientFigureData, type GradientFigureProps } from '../gradient-figure.ts';

export const GRADIENT_CSV_HEADER = ['row', 'row_label', 'state', 'layer', 'position', 'input_token', 'grad_norm', 'target_position', 'target_token_id', 'target_token'] as const;

export function gradientCsv(data: GradientFigureData): string {
  const t = data.target;
  const rows = data.rows.flatMap((r, i) => r.values.map((x, pos) => [i, r.label, r.state, r.layer, pos, data.pieces[data.inputIds[pos]], x, t.position, t.tokenId, data.pieces[t.tokenId]]));
  return toCsv(GRADIENT_CSV_HEADER, rows);
}

export const gradientKind: FigureKind<GradientFigureProps, GradientFigureData> = {
  kind: 'gradient',
  controls: [
    { name: 'position', label: 'Target position (−1: last)', type: 'number', min: -131072, max: 131071 },
    { name: 'token', label: 'Target token', type: 'text', placeholder: 'the top prediction' },
    { name: 'states', label: 'States', type: 'select', options: [{ value: 'all', label: 'block outputs and intermediates' }, { value: 'block', label: 'block outputs' }] },
    { name: 'scale', label: 'Scale', type: 'select', options: ['log', 'linear'] },
  ],
  compute: (ctx, p) => gradientFigure(ctx, p),
  render: (data, ctx) => renderGradient(data, ctx),
  csv: gradientCsv,
  details(data, target) {
    const piece = (id: number) => displayPiece(data.pieces[id] ?? `#${id}`);
    if (target.closest?.('g.target')) {
      return { title: targetText(data), items: data.predictions.map((p) => `${piece(p.id)} — ${pct(p.p)}`) };
    }
    const cell = target.closest?.('g.cell');
    if (!cell) return null;
    const row = Number(cell.getAttribute('data-row')), pos = Number(cell.getAttribute('data-pos'));
    if (!data.rows[row] || data.rows[row].values[pos] === undefined) return null;
    const [head, ...items] = gradientCellTitle(data, row, pos).split('\n');
    return { title: head, items };
  },
};
