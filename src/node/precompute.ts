/**
 * Build-time figures: the same core functions the page's Worker runs, here on
 * onnxruntime-node, through the content-hashed figure cache. Models are opened once per
 * build process and shared by all figures.
 */
import type { LogitLensOptions } from '../core/analysis/logit-lens.ts';
import type { FigureContext } from '../core/figures/logit-lens-figure.ts';
import { logitLensFigure, type LogitLensFigureData } from '../core/figures/logit-lens-figure.ts';
import type { FigureData } from '../core/figures/figure-kind.ts';
import { FIGURES } from '../core/figures/registry.ts';
import { LenspressError } from '../core/errors.ts';
import { codeVersion } from './code-version.ts';
import { cachedFigure, type FigureCacheOptions } from './figure-cache.ts';
import { type NodeModel, openModel } from './open-model.ts';

const models = new Map<string, Promise<NodeModel>>();

export function sharedModel(name: string): Promise<NodeModel> {
  let m = models.get(name);
  if (!m) {
    m = openModel(name);
    m.catch(() => models.delete(name));
    models.set(name, m);
  }
  return m;
}

/** Computes (or reuses) one figure's data for a model and props. */
export async function precomputeFigure<D>(kind: string, modelName: string, props: unknown, compute: (ctx: FigureContext, m: NodeModel) => Promise<D>, cache: FigureCacheOptions = {}): Promise<D> {
  const m = await sharedModel(modelName);
  const ctx: FigureContext = { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: codeVersion() };
  return cachedFigure({ kind, codeVersion: ctx.codeVersion, modelSha256: m.provenance.sha256, props }, () => compute(ctx, m), cache);
}

export function precomputeLogitLens(modelName: string, prompt: string, opts: LogitLensOptions, cache: FigureCacheOptions = {}): Promise<LogitLensFigureData> {
  return precomputeFigure('logit-lens', modelName, { prompt, ...opts }, (ctx) => logitLensFigure(ctx, prompt, opts), cache);
}

/** A figure of any registered kind, from its (validated) props. */
export function precomputeKind(kind: string, modelName: string, props: Record<string, unknown> & { prompt: string }, cache: FigureCacheOptions = {}): Promise<FigureData> {
  const figure = FIGURES[kind];
  if (!figure) throw new LenspressError('unknown-figure', `unknown figure kind "${kind}" (known: ${Object.keys(FIGURES).join(', ')})`);
  return precomputeFigure(kind, modelName, props, (ctx) => figure.compute(ctx, props), cache);
}
