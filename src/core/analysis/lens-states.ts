/**
 * Which captured state the lens decodes (methods.md §1), and which rows it has. Row indices
 * are the methods' grid rows: 0 = embedding x^(0), ℓ = block ℓ (1..L), L+1 = final norm.
 *
 *   block         x^(ℓ) (hook_resid_post), with x^(0) below and the final norm above: rows 0..L+1
 *   intermediate  x'^(ℓ) = x^(ℓ−1) + δ_att^(ℓ) (hook_resid_mid): rows 1..L
 *   attn          δ_att^(ℓ) (hook_attn_out): rows 1..L
 *   ffn           δ_ff^(ℓ) (hook_mlp_out): rows 1..L
 *   diff          x^(ℓ) − x^(ℓ−1) = δ_att^(ℓ) + δ_ff^(ℓ): rows 1..L
 *
 * Only the final-norm row arrives normalised; every other row may be normalised by the lens.
 */
import { blockHook } from '../model/hooks.ts';

export type LensState = 'block' | 'intermediate' | 'attn' | 'ffn' | 'diff';
export const LENS_STATES: readonly LensState[] = ['block', 'intermediate', 'attn', 'ffn', 'diff'];

/** Every hook the lens reads: the states of all kinds (for the shares too) and the final norm. */
export function lensHooks(nLayers: number): string[] {
  const hooks = ['hook_embed'];
  for (let l = 0; l < nLayers; l++) for (const h of ['hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'hook_resid_post'] as const) hooks.push(blockHook(l, h));
  hooks.push('ln_final.hook_normalized');
  return hooks;
}

/** The grid rows a state has, bottom to top. */
export function stateRows(state: LensState, nLayers: number): number[] {
  const blocks = Array.from({ length: nLayers }, (_, l) => l + 1);
  return state === 'block' ? [0, ...blocks, nLayers + 1] : blocks;
}

const PREFIX: Record<LensState, string> = { block: 'block', intermediate: 'mid', attn: 'attn', ffn: 'ffn', diff: 'Δ block' };

export function rowLabel(state: LensState, r: number, nLayers: number): string {
  if (state === 'block' && r === 0) return 'embed';
  if (state === 'block' && r === nLayers + 1) return 'final norm';
  return `${PREFIX[state]} ${r}`;
}

/** True for the row that is already normalised (never normalise twice). */
export const isNormalisedRow = (state: LensState, r: number, nLayers: number): boolean => state === 'block' && r === nLayers + 1;

/** The [T, d] states of grid row r (`get` returns a hook's data). */
export function stateAt(state: LensState, r: number, nLayers: number, get: (hook: string) => Float32Array): Float32Array {
  const post = (row: number) => (row === 0 ? get('hook_embed') : get(blockHook(row - 1, 'hook_resid_post')));
  switch (state) {
    case 'block':
      return r === nLayers + 1 ? get('ln_final.hook_normalized') : post(r);
    case 'intermediate':
      return get(blockHook(r - 1, 'hook_resid_mid'));
    case 'attn':
      return get(blockHook(r - 1, 'hook_attn_out'));
    case 'ffn':
      return get(blockHook(r - 1, 'hook_mlp_out'));
    case 'diff': {
      const cur = post(r), prev = post(r - 1);
      return cur.map((v, i) => v - prev[i]);
    }
  }
}
