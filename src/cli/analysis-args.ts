/** What the analysis commands (flow, heads, attention) share: number flags, prompt encoding, provenance. */
import { LenspressError } from '../core/errors.ts';
import type { Provenance } from '../core/figures/provenance.ts';
import type { NodeModel } from '../node/open-model.ts';
import type { FigureContext } from '../core/figures/logit-lens-figure.ts';

/** Parses a number flag within [min, max], or says what was expected. */
export function numberFlag(name: string, value: string | boolean | undefined, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new LenspressError('bad-option', `--${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** At most one of these flags may be given. */
export function exclusive(values: Record<string, string | boolean | undefined>, ...groups: string[][]): void {
  const given = groups.filter((g) => g.some((name) => values[name] !== undefined && values[name] !== false));
  if (given.length > 1) throw new LenspressError('bad-option', `give either ${given.map((g) => g.map((n) => `--${n}`).join('/')).join(' or ')}, not both`);
}

/** The prompt's token ids, BOS first; an empty prompt is refused. */
export function encodePrompt(m: NodeModel, prompt: string): number[] {
  if (prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: give some text to run the model on');
  return m.tokenizer.encode(prompt, { addBos: true });
}

export function provenance(m: NodeModel & { figure: FigureContext }, settings: Provenance['settings']): Provenance {
  return { model: m.provenance, codeVersion: m.figure.codeVersion, backend: m.hooked.backend.label, settings };
}

/** A token for a text table: visible whitespace, cut to `width`. */
export function cell(text: string, width: number): string {
  return (text.length > width - 1 ? text.slice(0, width - 2) + '…' : text).padEnd(width);
}
