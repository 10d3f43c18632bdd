/**
 * The logit-lens figure's data: what the build precomputes in Node and what the page's
 * Worker recomputes after Run — the same function in both places.
 */
import { computeLogitLens, type LogitLensGrid, type LogitLensOptions, DEFAULT_LENS_OPTIONS } from '../analysis/logit-lens.ts';
import type { HookedModel } from '../engine/hooked-model.ts';
import type { ModelProvenance } from '../model/open.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { LenspressError } from '../errors.ts';
import { generate } from '../engine/generate.ts';
import type { SamplingOptions } from '../engine/sampling.ts';
import type { Provenance } from './provenance.ts';

/** What fills a cell: top-1 probability, entropy, attention or feed-forward share, or KL to the row below. */
export type LensColor = 'prob' | 'entropy' | 'att-share' | 'ff-share' | 'kl';
export const LENS_COLORS: readonly LensColor[] = ['prob', 'entropy', 'att-share', 'ff-share', 'kl'];

export interface LogitLensFigureData {
  kind: 'logit-lens';
  prompt: string;
  grid: LogitLensGrid;
  /** How the renderer colours cells unless told otherwise; absent means 'prob'. */
  color?: LensColor;
  provenance: Provenance;
}

export interface FigureContext {
  hooked: HookedModel;
  tokenizer: TextTokenizer;
  model: ModelProvenance;
  codeVersion: string;
}

/** Generate this many tokens after the prompt first (greedy at temperature 0), then lens the whole sequence. */
export interface LensGeneration {
  maxNewTokens: number;
  sampling: SamplingOptions;
}

/** The lens options (state, decoder, secondary default to block, output, topk) plus the colouring and generation. */
export type LogitLensFigureOptions = LogitLensOptions & { color?: LensColor; generate?: LensGeneration };

export async function logitLensFigure(ctx: FigureContext, prompt: string, opts: LogitLensFigureOptions = DEFAULT_LENS_OPTIONS): Promise<LogitLensFigureData> {
  if (prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: type some text to run the model on');
  let ids = ctx.tokenizer.encode(prompt, { addBos: true });
  const gen = opts.generate && opts.generate.maxNewTokens > 0 ? opts.generate : undefined;
  let generation: Record<string, number> = {};
  if (gen) {
    // The prompt/generation boundary is drawn at promptLength; the lens then reads every position.
    const promptLength = ids.length;
    const room = ctx.hooked.config.n_ctx - promptLength;
    const g = await generate(ctx.hooked, ids, { maxNewTokens: Math.max(0, Math.min(gen.maxNewTokens, room)) , sampling: gen.sampling });
    ids = [...ids, ...g.ids];
    opts = { ...opts, promptLength };
    generation = { generate: gen.maxNewTokens, temperature: gen.sampling.temperature, topK: gen.sampling.topK, topP: gen.sampling.topP, seed: gen.sampling.seed };
  }
  const grid = await computeLogitLens(ctx.hooked, ids, (id) => ctx.tokenizer.piece(id), opts);
  const { state, decoder, norm, secondary, k } = grid.settings;
  return {
    kind: 'logit-lens',
    prompt,
    grid,
    ...(opts.color ? { color: opts.color } : {}),
    provenance: { model: ctx.model, codeVersion: ctx.codeVersion, backend: ctx.hooked.backend.label, settings: { state, decoder, norm, secondary, k, ...generation } },
  };
}
