/** The logit-lens figure's data as CSV: one line per (row, position, rank). */
import { toCsv } from './csv.ts';
import type { LogitLensFigureData } from './logit-lens-figure.ts';

export const LOGIT_LENS_CSV_HEADER = ['row', 'row_label', 'position', 'input_token', 'rank', 'token_id', 'token', 'probability', 'entropy_nats'] as const;

export function logitLensCsv(data: LogitLensFigureData): string {
  const { grid } = data;
  const rows: (string | number)[][] = [];
  grid.cells.forEach((row, r) =>
    row.forEach((cell, t) =>
      cell.ids.forEach((id, i) => rows.push([r, grid.rowLabels[r], t, grid.pieces[grid.inputIds[t]], i + 1, id, grid.pieces[id], cell.probs[i], cell.entropy])),
    ),
  );
  return toCsv(LOGIT_LENS_CSV_HEADER, rows);
}
