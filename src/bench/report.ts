/**
 * Benchmark results and their table. A result is either a ratio measured in one
 * interleaved run (median and range of the per-round ratios) or a plain value (ms, KB) with
 * its own median and range; every result carries the command that reproduces it.
 */
import { formatSummary, type Summary } from './stats.ts';

export interface Goal {
  /** Met when the median is ≤ (or ≥) the bound. */
  op: '<=' | '>=';
  bound: number;
  text: string;
}

export interface RowResult {
  /** Row id, as given to --only. */
  id: string;
  /** What was measured, e.g. "stories260K: all hooks / logits only". */
  label: string;
  /** ×, %, ms, KB … */
  unit: string;
  summary: Summary;
  goal?: Goal;
  /** Supporting numbers (medians of each side, GFLOP/s, sizes …). */
  details: Record<string, number | string>;
  command: string;
}

export const goalMet = (r: RowResult): boolean | undefined => (r.goal ? (r.goal.op === '<=' ? r.summary.median <= r.goal.bound : r.summary.median >= r.goal.bound) : undefined);

export function formatValue(r: RowResult): string {
  const digits = r.unit === '×' ? 2 : r.unit === '%' || r.unit === 'KB' ? 1 : 0;
  return r.summary.n > 1 ? formatSummary(r.summary, r.unit === '×' ? '×' : ` ${r.unit}`, digits) : `${r.summary.median.toFixed(digits)}${r.unit === '×' ? '×' : ` ${r.unit}`}`;
}

/** A Markdown table (readable in a terminal, pasteable into docs/benchmarks.md). */
export function formatTable(rows: readonly RowResult[]): string {
  const header = ['row', 'measured', 'median (min–max)', 'goal', 'met', 'reproduce'];
  const body = rows.map((r) => {
    const met = goalMet(r);
    return [r.id, r.label, formatValue(r), r.goal?.text ?? 'report', met === undefined ? '—' : met ? 'yes' : 'NO', `\`${r.command}\``];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

export function formatDetails(rows: readonly RowResult[]): string {
  return rows
    .filter((r) => Object.keys(r.details).length > 0)
    .map((r) => `- ${r.id} · ${r.label}: ${Object.entries(r.details).map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toPrecision(4) : v}`).join(', ')}`)
    .join('\n');
}
