/**
 * A logit-lens figure computed in the page against the same figure computed in Node, for
 * checkpoints with nearly flat next-token distributions (seeded random weights): the grids
 * must have the same inputs and shape, the top-1 token must agree wherever Node's first two
 * probabilities are more than `tieTol` apart, and the worst relative probability and absolute
 * entropy differences are returned for the caller to bound and print.
 */
import { expect } from '@playwright/test';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';

export function compareLensGrids(live: LogitLensFigureData, want: LogitLensFigureData, tieTol = 1e-4): { rel: number; entropy: number } {
  expect(live.grid.inputIds).toEqual(want.grid.inputIds);
  expect(live.grid.cells.length).toBe(want.grid.cells.length);
  let rel = 0, entropy = 0;
  want.grid.cells.forEach((row, r) =>
    row.forEach((w, t) => {
      const c = live.grid.cells[r][t];
      if ((w.probs[0] - w.probs[1]) / w.probs[0] > tieTol) expect(c.ids[0], `row ${r} position ${t}`).toBe(w.ids[0]);
      w.probs.forEach((p, i) => (rel = Math.max(rel, Math.abs(c.probs[i] - p) / p)));
      entropy = Math.max(entropy, Math.abs(c.entropy - w.entropy));
    }),
  );
  return { rel, entropy };
}
