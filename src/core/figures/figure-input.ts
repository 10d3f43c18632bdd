/**
 * What the analysis figure kinds (flow, heads, attention-text) share: the prompt's ids, an
 * index that may count from the end (Python style: −1 is the last), and provenance.
 */
import { LenspressError } from '../errors.ts';
import type { FigureContext } from './figure-kind.ts';
import type { Provenance } from './provenance.ts';

/** The prompt's ids with BOS first; an empty prompt is refused with a message the reader can act on. */
export function promptIds(ctx: FigureContext, prompt: string): number[] {
  if (prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: type some text to run the model on');
  return ctx.tokenizer.encode(prompt, { addBos: true });
}

/**
 * `i` in 0..n−1, or counted from the end when negative (−1 = n−1), so that "the last
 * position" stays the last when the reader edits the prompt. `what` names it in the error.
 */
export function resolveIndex(i: number, n: number, what: string): number {
  const r = i < 0 ? n + i : i;
  if (!Number.isInteger(i) || r < 0 || r >= n) throw new LenspressError('bad-option', `${what} must be a whole number from ${-n} to ${n - 1} (negative counts from the end), got ${i}`);
  return r;
}

export function figureProvenance(ctx: FigureContext, settings: Provenance['settings']): Provenance {
  return { model: ctx.model, codeVersion: ctx.codeVersion, backend: ctx.hooked.backend.label, settings };
}
