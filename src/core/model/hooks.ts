/**
 * Hook points, named as in TransformerLens. Shapes are given without the batch axis
 * (Lenspress runs one sequence at a time): [pos, d_model], [n_heads, pos, pos], [pos, d_vocab].
 */
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from './config.ts';

export const BLOCK_HOOKS = ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'hook_resid_post', 'attn.hook_pattern'] as const;
export type BlockHook = (typeof BLOCK_HOOKS)[number];

export const blockHook = (layer: number, hook: BlockHook): string => `blocks.${layer}.${hook}`;

/** Every hook name of a model, in forward order, plus `logits`. */
export function allHookNames(c: ModelConfig): string[] {
  const names = ['hook_embed'];
  for (let l = 0; l < c.n_layers; l++) for (const h of BLOCK_HOOKS) names.push(blockHook(l, h));
  names.push('ln_final.hook_normalized', 'logits');
  return names;
}

/** Shape of a hook's tensor for a prompt of `pos` tokens. */
export function hookShape(c: ModelConfig, name: string, pos: number): number[] {
  if (name === 'logits') return [pos, c.d_vocab];
  if (name.endsWith('attn.hook_pattern')) return [c.n_heads, pos, pos];
  return [pos, c.d_model];
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
