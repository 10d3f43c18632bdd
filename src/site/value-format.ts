/**
 * How <Value> prints a number or string read from a figure's data. Numbers are typeset as in
 * the figures' captions: U+2212 for minus, "1.23 × 10⁻⁴" for scientific notation, "42.1%"
 * for a share. Tokens print as the figures print them (displayPiece: "▁red", "\n" escaped).
 */
import { LenspressError } from '../core/errors.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import type { PathValue } from './data-path.ts';

export const VALUE_FORMATS = ['fixed', 'percent', 'exp', 'token'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

export interface FormatOptions {
  format?: ValueFormat;
  /** Digits after the decimal point (of the mantissa for `exp`). */
  digits?: number;
}

const SUPERSCRIPT: Record<string, string> = { '-': '\u207b', '+': '', 0: '\u2070', 1: '\u00b9', 2: '\u00b2', 3: '\u00b3', 4: '\u2074', 5: '\u2075', 6: '\u2076', 7: '\u2077', 8: '\u2078', 9: '\u2079' };

/** "-0.50" → "−0.50"; a negative value that rounds to zero prints without a sign. */
function typesetMinus(s: string): string {
  if (/^-0(\.0*)?(%|$| )/.test(s)) s = s.slice(1);
  return s.replace(/^-/, '\u2212');
}

function groupInteger(v: number): string {
  // Four-digit integers stay ungrouped (2048, a year); larger ones get thin-space-free commas.
  return Math.abs(v) >= 10_000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(v);
}

export function formatValue(v: PathValue, opts: FormatOptions = {}): string {
  const { format, digits } = opts;
  if (typeof v === 'string') {
    if (format === 'token') return displayPiece(v);
    if (format) throw new LenspressError('bad-format', `format="${format}" needs a number, but the value is the string "${v}"`);
    return v;
  }
  if (typeof v === 'boolean') {
    if (format) throw new LenspressError('bad-format', `format="${format}" needs a number, but the value is ${v}`);
    return String(v);
  }
  if (format === 'token') throw new LenspressError('bad-format', `format="token" needs a string (a token), but the value is the number ${v}`);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '\u221e' : '\u2212\u221e';
  switch (format) {
    case 'percent':
      return typesetMinus(`${(v * 100).toFixed(digits ?? 1)}%`);
    case 'exp': {
      const [mantissa, exponent] = v.toExponential(digits ?? 2).split('e');
      const sup = [...exponent].map((c) => SUPERSCRIPT[c]).join('');
      return `${typesetMinus(mantissa)} \u00d7 10${sup}`;
    }
    case 'fixed':
    case undefined:
      if (digits === undefined && Number.isInteger(v)) return typesetMinus(groupInteger(v));
      return typesetMinus(v.toFixed(digits ?? 3));
  }
}
