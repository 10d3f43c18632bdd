/**
 * Hook points, named as in TransformerLens. Shapes are given without the batch axis
 * (Lenspress runs one sequence at a time).
 *
 * Two hooks are Lenspress's own in-graph reductions of `attn.hook_result`, for models whose
 * per-head outputs are too big to copy out ([pos, n_heads, d_model] per layer is 64 MB for
 * Mistral 7B at 512 tokens): `attn.hook_result_norm` = ‖δ_att^(ℓ,h)‖₂ and
 * `attn.hook_result_cos` = cos(δ_att^(ℓ,h), δ_att^(ℓ)), both [pos, n_heads].
 */
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from './config.ts';

export const BLOCK_HOOKS = [
  'hook_resid_pre',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_pattern',
  'attn.hook_z',
  'attn.hook_result',
  'attn.hook_result_norm',
  'attn.hook_result_cos',
  'hook_attn_out',
  'hook_resid_mid',
  'hook_mlp_out',
  'hook_resid_post',
] as const;
export type BlockHook = (typeof BLOCK_HOOKS)[number];

export const blockHook = (layer: number, hook: BlockHook): string => `blocks.${layer}.${hook}`;

/** Every hook name of a model, in forward order, ending with `logits`. */
export function allHookNames(c: ModelConfig): string[] {
  const names = ['hook_embed'];
  for (let l = 0; l < c.n_layers; l++) for (const h of BLOCK_HOOKS) names.push(blockHook(l, h));
  names.push('ln_final.hook_normalized', 'logits');
  return names;
}

/** Shape of a hook's tensor for `pos` new tokens attending to `keys` positions (= pos without a cache). */
export function hookShape(c: ModelConfig, name: string, pos: number, keys = pos): number[] {
  const suffix = name.replace(/^blocks\.\d+\./, '');
  switch (suffix) {
    case 'logits':
      return [pos, c.d_vocab];
    case 'attn.hook_pattern':
      return [c.n_heads, pos, keys];
    case 'attn.hook_q':
    case 'attn.hook_z':
      return [pos, c.n_heads, c.d_head];
    case 'attn.hook_k':
    case 'attn.hook_v':
      return [pos, c.n_kv_heads, c.d_head];
    case 'attn.hook_result':
      return [pos, c.n_heads, c.d_model];
    case 'attn.hook_result_norm':
    case 'attn.hook_result_cos':
      return [pos, c.n_heads];
    default:
      return [pos, c.d_model];
  }
}

export function validateHooks(c: ModelConfig, hooks: readonly string[]): void {
  const known = new Set(allHookNames(c));
  for (const h of hooks) {
    if (!known.has(h)) {
      throw new LenspressError(
        'unknown-hook',
        `unknown hook: ${h} (this model has hook_embed, blocks.{0..${c.n_layers - 1}}.{${BLOCK_HOOKS.join(',')}}, ln_final.hook_normalized, logits)`,
      );
    }
  }
}
