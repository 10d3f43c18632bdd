/** Every figure kind by name: what the Worker computes and the page draws. */
import type { AnyFigureKind } from './figure-kind.ts';
import { logitLensKind } from './kinds/logit-lens.ts';

export const FIGURES: Record<string, AnyFigureKind> = {
  [logitLensKind.kind]: logitLensKind as unknown as AnyFigureKind,
};
