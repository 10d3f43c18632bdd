/** Every figure kind by name: what the Worker computes and the page draws. */
import type { AnyFigureKind } from './figure-kind.ts';
import { logitLensKind } from './kinds/logit-lens.ts';
import { flowKind } from './kinds/flow.ts';
import { headsKind } from './kinds/heads.ts';
import { attentionTextKind } from './kinds/attention-text.ts';
import { gradientKind } from './kinds/gradient.ts';
import { analogyKind } from './kinds/analogy.ts';
import { markovKind } from './kinds/markov.ts';

export const FIGURES: Record<string, AnyFigureKind> = {
  [logitLensKind.kind]: logitLensKind as unknown as AnyFigureKind,
  [flowKind.kind]: flowKind as unknown as AnyFigureKind,
  [headsKind.kind]: headsKind as unknown as AnyFigureKind,
  [attentionTextKind.kind]: attentionTextKind as unknown as AnyFigureKind,
  [gradientKind.kind]: gradientKind as unknown as AnyFigureKind,
  [analogyKind.kind]: analogyKind as unknown as AnyFigureKind,
  [markovKind.kind]: markovKind as unknown as AnyFigureKind,
};
