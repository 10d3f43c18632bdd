/**
 * Per-cell metrics that colour the lens (methods.md §2 "Cell metrics"): the attention and
 * feed-forward shares of each block's update by norm proportion, on raw vectors,
 *   share_att = ‖δ_att‖ / (‖x^(ℓ−1)‖ + ‖δ_att‖),   share_ff = ‖δ_ff‖ / (‖x'^(ℓ)‖ + ‖δ_ff‖)
 * (the residual's share is 1 − share). These need only d-wide norms, so they are computed
 * here in float64. Top probability, entropy and KL come from the decode graph.
 */
import { blockHook } from '../model/hooks.ts';

export interface CellMetrics {
  /** KL(P_r ‖ P_{r−1}) in nats between this cell's decoded distribution and the one in the grid row below; null on the first row. */
  kl: number | null;
  /** Attention share of block ℓ's update at this position; null on rows that are not a block (embedding, final norm). */
  attShare: number | null;
  /** Feed-forward share, likewise. */
  ffShare: number | null;
}

function norm(v: ArrayLike<number>, from: number, d: number): number {
  let s = 0;
  for (let i = from; i < from + d; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** ‖update‖ / (‖residual‖ + ‖update‖); null when both are zero (no update, nothing to share). */
export function normShare(update: ArrayLike<number>, residual: ArrayLike<number>): number | null {
  const u = norm(update, 0, update.length), r = norm(residual, 0, residual.length);
  return u + r === 0 ? null : u / (u + r);
}

export interface BlockShares {
  /** [ℓ−1][t] for blocks ℓ = 1..L */
  att: (number | null)[][];
  ff: (number | null)[][];
}

/**
 * Shares of every block at every position from captured hooks (`get` returns a hook's
 * [T, d] data). x^(ℓ−1) is the block input: hook_embed for ℓ = 1, else block ℓ−1's output.
 */
export function blockShares(get: (hook: string) => Float32Array, nLayers: number, T: number, d: number): BlockShares {
  const att: (number | null)[][] = [], ff: (number | null)[][] = [];
  for (let l = 0; l < nLayers; l++) {
    const pre = l === 0 ? get('hook_embed') : get(blockHook(l - 1, 'hook_resid_post'));
    const dAtt = get(blockHook(l, 'hook_attn_out')), mid = get(blockHook(l, 'hook_resid_mid')), dFf = get(blockHook(l, 'hook_mlp_out'));
    att.push(Array.from({ length: T }, (_, t) => normShare(dAtt.subarray(t * d, (t + 1) * d), pre.subarray(t * d, (t + 1) * d))));
    ff.push(Array.from({ length: T }, (_, t) => normShare(dFf.subarray(t * d, (t + 1) * d), mid.subarray(t * d, (t + 1) * d))));
  }
  return { att, ff };
}
