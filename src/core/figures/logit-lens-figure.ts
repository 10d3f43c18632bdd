/**
 * The logit-lens figure's data: what the build precomputes in Node and what the page's
 * Worker recomputes after Run — the same function in both places.
 */
import { computeLogitLens, type LogitLensGrid, type LogitLensOptions, DEFAULT_LENS_OPTIONS } from '../analysis/logit-lens.ts';
import type { HookedModel } from '../engine/hooked-model.ts';
import type { ModelProvenance } from '../model/open.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { LenspressError } from '../errors.ts';
import type { Provenance } from './provenance.ts';

export interface LogitLensFigureData {
  kind: 'logit-lens';
  prompt: string;
  grid: LogitLensGrid;
  provenance: Provenance;
}

export interface FigureContext {
  hooked: HookedModel;
  tokenizer: TextTokenizer;
  model: ModelProvenance;
  codeVersion: string;
}

export async function logitLensFigure(ctx: FigureContext, prompt: string, opts: LogitLensOptions = DEFAULT_LENS_OPTIONS): Promise<LogitLensFigureData> {
  if (prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: type some text to run the model on');
  const ids = ctx.tokenizer.encode(prompt, { addBos: true });
  const grid = await computeLogitLens(ctx.hooked, ids, (id) => ctx.tokenizer.piece(id), opts);
  return {
    kind: 'logit-lens',
    prompt,
    grid,
    provenance: { model: ctx.model, codeVersion: ctx.codeVersion, backend: ctx.hooked.backend.label, settings: { decoder: grid.settings.decoder, norm: opts.norm, k: opts.k } },
  };
}
