/**
 * Secondary representations by iterative subtraction (methods.md §2; the method behind the
 * group's 万 and Costello findings, group-notes.md): repeat up to 5 times
 *   id = argmax(N(e)·Wᵀ); record id if new; e ← e − W[id] (the raw decoder row);
 * stop when ‖e‖ ≤ 0.01, or from the second step on when ‖e‖ stops decreasing.
 *
 * Every step is one run of the decode graph over all still-active cells at once (argmax,
 * subtraction and ‖e‖ happen inside ONNX Runtime); JavaScript only keeps the per-cell
 * bookkeeping and the d-wide residuals, never a vocabulary-wide vector. The step that
 * triggers a stop has already recorded its id (the recipe records before it checks).
 * For interpolated decoders W[id] is the interpolated row; for maxprob each step decodes
 * through both matrices and subtracts the winner's row.
 */
import type { DecodeBatch, DecodeResult, LensDecoder } from './lens-decoder.ts';

export const ITERATIVE_MAX_STEPS = 5;
export const ITERATIVE_STOP_NORM = 0.01;

export type IterativeStop = 'max-steps' | 'small' | 'no-decrease';

export interface IterativeSecondary {
  /** Distinct ids in the order found; the first is the cell's top-1. */
  ids: number[];
  /** The argmax of every step, repeats included. */
  steps: number[];
  /** ‖e‖ after each step. */
  norms: number[];
  /** maxprob only: which matrix each step's argmax came from. */
  winners?: ('in' | 'out')[];
  stop: IterativeStop;
}

/** Whether to stop after a step that left ‖e‖ = `norm` (`prev`: ‖e‖ after the step before, if any). */
export function iterativeStop(step: number, norm: number, prev: number | undefined): IterativeStop | undefined {
  if (norm <= ITERATIVE_STOP_NORM) return 'small';
  if (step >= 2 && prev !== undefined && norm >= prev) return 'no-decrease';
  return step >= ITERATIVE_MAX_STEPS ? 'max-steps' : undefined;
}

/**
 * Runs iterative subtraction for every state of `batch`. `first`, when given, is the
 * decoder's result on exactly this batch (the lens's main decode is step 1) and saves a run.
 */
export async function iterativeSubtraction(decoder: LensDecoder, batch: DecodeBatch, first?: DecodeResult): Promise<IterativeSecondary[]> {
  const n = batch.applyNorm.length, d = decoder.weights.d_model, k = decoder.k;
  const maxprob = decoder.matrices.kind === 'max';
  const out: IterativeSecondary[] = Array.from({ length: n }, () => ({ ids: [], steps: [], norms: [], ...(maxprob ? { winners: [] } : {}), stop: 'max-steps' }));
  let active = Array.from({ length: n }, (_, i) => i); // cell of each row of the current batch
  let current: DecodeBatch = { states: batch.states, applyNorm: batch.applyNorm, alpha: batch.alpha };
  let result = first ?? (await decoder.decode(current));
  for (let step = 1; active.length > 0; step++) {
    const next: number[] = [];
    for (let j = 0; j < active.length; j++) {
      const s = out[active[j]];
      const id = Number(result.topIds[j * k]);
      const norm = result.residualNorm[j];
      s.steps.push(id);
      if (!s.ids.includes(id)) s.ids.push(id);
      s.winners?.push(result.winnerIn![j] ? 'in' : 'out');
      const stop = iterativeStop(step, norm, s.norms.at(-1));
      s.norms.push(norm);
      if (stop) s.stop = stop;
      else next.push(j);
    }
    if (next.length === 0) break;
    // The still-active cells' residuals, with their own norm flag and interpolation weight.
    const states = new Float32Array(next.length * d), applyNorm = new Uint8Array(next.length), alpha = new Float32Array(next.length);
    next.forEach((j, i) => {
      states.set(result.residual.subarray(j * d, (j + 1) * d), i * d);
      applyNorm[i] = current.applyNorm[j];
      alpha[i] = current.alpha[j];
    });
    active = next.map((j) => active[j]);
    current = { states, applyNorm, alpha };
    result = await decoder.decode(current);
  }
  return out;
}
