/**
 * A figure component's data at build time: its props resolved through the component registry,
 * then computed (or read from the figure cache) by the same core function the page runs.
 * The figure components and <Value> both call `loadFigure`, so a number quoted in the text
 * comes from the very cache entry the figure beside it was drawn from.
 */
import type { FigureData } from '../core/figures/figure-kind.ts';
import { precomputeKind } from '../node/precompute.ts';
import { resolveFigure, type ResolvedFigure } from './figure-components.ts';

export interface LoadedFigure extends ResolvedFigure {
  data: FigureData;
}

export async function loadFigure(component: string, received: unknown): Promise<LoadedFigure> {
  const figure = resolveFigure(component, received);
  const data = await precomputeKind(figure.kind, figure.model, figure.props);
  return { ...figure, data };
}
