/**
 * Attention shown on the text itself (group notes, 22/02/24: shade the text's background
 * instead of drawing square markers; let readers remove the threshold and set a minimum and
 * maximum width so the picture does not clutter): for one layer and one head (or the mean
 * over heads), the weights A[query, key] from a chosen query position to every key, as data
 * for a renderer that shades each token's background.
 *
 * shade ∈ [0, 1]: 0 below the threshold; otherwise weight / (largest weight on this row)
 * (`scale: 'max'`, default: the strongest key is fully shaded, so weak rows stay readable) or
 * the weight itself (`scale: 'absolute'`, comparable across rows and figures).
 *
 * width (CSS px): the thickness of a bar the renderer draws under the token (a bottom border
 * or underline), a second channel beside the background colour that survives greyscale
 * printing and colour-blind palettes. 0 below the threshold (no bar: the text stays clean);
 * otherwise minWidth + (maxWidth − minWidth)·shade, so the weakest key shown is still visible
 * (minWidth) and the strongest never swamps its neighbours (maxWidth).
 */
import type { HookedModel, HookMap } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { blockHook } from '../model/hooks.ts';
import { attentionRow, requireHook } from './captured.ts';

export interface AttentionTextOptions {
  /** Block index as in TransformerLens: `blocks.{layer}`, 0..L−1. */
  layer: number;
  /** One head 0..H−1, or the mean over heads. */
  head: number | 'average';
  /** The query position 0..T−1 whose attention row is shown. */
  query: number;
  /** Weights below this get shade 0 and width 0 (default 0: nothing hidden). */
  threshold?: number;
  /** Bar widths in CSS px (defaults 1 and 6). */
  minWidth?: number;
  maxWidth?: number;
  scale?: 'max' | 'absolute';
}

export interface AttentionTextToken {
  position: number;
  id: number;
  text: string;
  /** A[query, position]: 0 for keys the query cannot see (later positions, outside a sliding window). */
  weight: number;
  shade: number;
  width: number;
  isQuery: boolean;
}

export interface AttentionText {
  layer: number;
  head: number | 'average';
  query: number;
  tokens: AttentionTextToken[];
  settings: { threshold: number; minWidth: number; maxWidth: number; scale: 'max' | 'absolute' };
}

export function attentionTextHooks(config: Pick<ModelConfig, 'n_layers'>, options: Pick<AttentionTextOptions, 'layer'>): string[] {
  checkLayer(config, options.layer);
  return [blockHook(options.layer, 'attn.hook_pattern')];
}

const bad = (msg: string) => new LenspressError('bad-option', msg);

function checkLayer(config: Pick<ModelConfig, 'n_layers'>, layer: number) {
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.n_layers) throw bad(`the layer must be a block index 0..${config.n_layers - 1}, got ${layer}`);
}

export function computeAttentionText(hooks: HookMap, config: Pick<ModelConfig, 'n_layers' | 'n_heads'>, tokens: readonly { id: number; text: string }[], options: AttentionTextOptions): AttentionText {
  const { layer, head, query } = options;
  const threshold = options.threshold ?? 0, minWidth = options.minWidth ?? 1, maxWidth = options.maxWidth ?? 6, scale = options.scale ?? 'max';
  checkLayer(config, layer);
  if (head !== 'average' && (!Number.isInteger(head) || head < 0 || head >= config.n_heads)) throw bad(`the head must be 0..${config.n_heads - 1} or the average, got ${head}`);
  if (!(threshold >= 0 && threshold <= 1)) throw bad(`the threshold must be in [0, 1], got ${threshold}`);
  if (!(minWidth >= 0 && maxWidth >= minWidth && Number.isFinite(maxWidth))) throw bad(`widths must satisfy 0 ≤ min ≤ max, got min ${minWidth}, max ${maxWidth}`);
  const pattern = requireHook(hooks, blockHook(layer, 'attn.hook_pattern'), 3, 'the attention text', 'capture attentionTextHooks(config, options)');
  const [H, T, keys] = pattern.dims;
  if (H !== config.n_heads || T !== keys) throw new LenspressError('bad-hook', `the attention text: the pattern has dims [${pattern.dims.join(', ')}], expected [${config.n_heads}, T, T]`);
  if (tokens.length !== T) throw bad(`the pattern covers ${T} positions but ${tokens.length} tokens were given`);
  if (!Number.isInteger(query) || query < 0 || query >= T) throw bad(`the query position must be 0..${T - 1}, got ${query}`);

  const weights = attentionRow(pattern, query, head);
  let max = 0;
  for (const w of weights) if (w >= threshold) max = Math.max(max, w);
  const out = tokens.map(({ id, text }, position): AttentionTextToken => {
    const weight = weights[position];
    const shown = weight > 0 && weight >= threshold;
    const shade = !shown ? 0 : scale === 'max' ? weight / max : weight;
    return { position, id, text, weight, shade, width: shown ? minWidth + (maxWidth - minWidth) * shade : 0, isQuery: position === query };
  });
  return { layer, head, query, tokens: out, settings: { threshold, minWidth, maxWidth, scale } };
}

/** Runs the model on `ids` and computes one attention row as shaded text. */
export async function runAttentionText(model: HookedModel, ids: readonly number[], piece: (id: number) => string, options: AttentionTextOptions): Promise<AttentionText> {
  const hooks = await model.run(ids, attentionTextHooks(model.config, options));
  return computeAttentionText(hooks, model.config, ids.map((id) => ({ id, text: piece(id) })), options);
}
