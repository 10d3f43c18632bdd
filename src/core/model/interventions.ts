/**
 * Interventions (methods.md §5), applied where the hook of the same name is read, so the
 * hook shows the state after the intervention (as a TransformerLens hook function would):
 *
 *   h' = keep ⊙ h + delta      at (layer, position, site)
 *
 * add: keep 1, delta v · replace: keep 0, delta v · ablate a delta: keep 0, delta 0
 * (the residual passes through unchanged) · ablate a head: its z is multiplied by 0 before
 * W_O. In the ONNX graph keep/delta are real graph inputs (ONNX inputs have no defaults), so
 * one session serves every intervention at the same sites; keep = 1, delta = 0 is exact.
 */
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from './config.ts';

export const INTERVENTION_SITES = ['resid_pre', 'attn_out', 'resid_mid', 'mlp_out', 'resid_post'] as const;
export type InterventionSite = (typeof INTERVENTION_SITES)[number];

export type Intervention =
  | { kind: 'add' | 'replace'; layer: number; position: number; site: InterventionSite; vector: Float32Array | number[] }
  | { kind: 'ablate'; layer: number; position: number; site: 'attn_out' | 'mlp_out' }
  | { kind: 'ablate_head'; layer: number; head: number; position?: number };

/** The (layer, site) pairs a set of interventions needs graph inputs for, e.g. "2.attn_out", "3.heads". */
export function interventionSlots(ivs: readonly Intervention[]): string[] {
  return [...new Set(ivs.map((iv) => `${iv.layer}.${iv.kind === 'ablate_head' ? 'heads' : iv.site}`))].sort();
}

export const keepInput = (layer: number, site: InterventionSite) => `iv.${layer}.${site}.keep`; // [1, pos, 1]
export const deltaInput = (layer: number, site: InterventionSite) => `iv.${layer}.${site}.delta`; // [1, pos, d_model]
export const headKeepInput = (layer: number) => `iv.${layer}.heads.keep`; // [1, n_heads, pos, 1]

export function validateInterventions(c: ModelConfig, T: number, ivs: readonly Intervention[]): void {
  for (const iv of ivs) {
    const where = JSON.stringify({ ...iv, vector: undefined });
    if (!Number.isInteger(iv.layer) || iv.layer < 0 || iv.layer >= c.n_layers) throw new LenspressError('bad-intervention', `intervention ${where}: layer must be 0..${c.n_layers - 1}`);
    if (iv.position !== undefined && (!Number.isInteger(iv.position) || iv.position < 0 || iv.position >= T)) throw new LenspressError('bad-intervention', `intervention ${where}: position must be 0..${T - 1}`);
    if (iv.kind === 'ablate_head') {
      if (!Number.isInteger(iv.head) || iv.head < 0 || iv.head >= c.n_heads) throw new LenspressError('bad-intervention', `intervention ${where}: head must be 0..${c.n_heads - 1}`);
    } else if (!INTERVENTION_SITES.includes(iv.site)) {
      throw new LenspressError('bad-intervention', `intervention ${where}: site must be one of ${INTERVENTION_SITES.join(', ')}`);
    } else if ((iv.kind === 'add' || iv.kind === 'replace') && iv.vector.length !== c.d_model) {
      throw new LenspressError('bad-intervention', `intervention ${where}: vector has ${iv.vector.length} values, expected d_model = ${c.d_model}`);
    }
  }
}

/** keep [pos] and delta [pos, d_model] for one (layer, site); identity when nothing applies. */
export function siteTensors(c: ModelConfig, T: number, ivs: readonly Intervention[], layer: number, site: InterventionSite): { keep: Float32Array; delta: Float32Array } {
  const keep = new Float32Array(T).fill(1), delta = new Float32Array(T * c.d_model);
  for (const iv of ivs) {
    if (iv.kind === 'ablate_head' || iv.layer !== layer || iv.site !== site) continue;
    const p = iv.position;
    if (iv.kind !== 'add') keep[p] = 0;
    if (iv.kind === 'replace') delta.fill(0, p * c.d_model, (p + 1) * c.d_model);
    if (iv.kind !== 'ablate') for (let i = 0; i < c.d_model; i++) delta[p * c.d_model + i] += iv.vector[i];
  }
  return { keep, delta };
}

/** Head mask [n_heads, pos]: 0 where a head is ablated. */
export function headKeep(c: ModelConfig, T: number, ivs: readonly Intervention[], layer: number): Float32Array {
  const keep = new Float32Array(c.n_heads * T).fill(1);
  for (const iv of ivs) {
    if (iv.kind !== 'ablate_head' || iv.layer !== layer) continue;
    if (iv.position === undefined) keep.fill(0, iv.head * T, (iv.head + 1) * T);
    else keep[iv.head * T + iv.position] = 0;
  }
  return keep;
}
