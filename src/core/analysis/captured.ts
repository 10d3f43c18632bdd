/**
 * Reading a run's captured hooks (HookedModel.run's Map) for the analyses: the analyses are
 * pure functions of these tensors, so they give the same answer in Node, the page and a
 * Worker, and on states captured by the reference forward pass.
 */
import type { HookMap, HookTensor } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';

/** The hook `name`, checked to have `rank` axes; `analysis` and `hint` say what to run instead. */
export function requireHook(hooks: HookMap, name: string, rank: number, analysis: string, hint: string): HookTensor {
  const t = hooks.get(name);
  if (!t) throw new LenspressError('missing-hook', `${analysis} needs the hook ${name}, which the run did not capture: ${hint}`);
  if (t.dims.length !== rank || t.data.length !== t.dims.reduce((a, b) => a * b, 1)) {
    throw new LenspressError('bad-hook', `${analysis}: hook ${name} has dims [${t.dims.join(', ')}] and ${t.data.length} values, expected ${rank} axes`);
  }
  return t;
}

/**
 * Attention from query `t` to every key, [T] in float64: one head's row of
 * `attn.hook_pattern` [H, T, T], or the mean over heads when `head` is 'average'.
 */
export function attentionRow(pattern: HookTensor, t: number, head: number | 'average'): Float64Array {
  const [H, Tq, Tk] = pattern.dims, row = new Float64Array(Tk);
  const heads = head === 'average' ? Array.from({ length: H }, (_, h) => h) : [head];
  for (const h of heads) {
    const off = (h * Tq + t) * Tk;
    for (let s = 0; s < Tk; s++) row[s] += pattern.data[off + s];
  }
  for (let s = 0; s < Tk; s++) row[s] /= heads.length;
  return row;
}

/** ‖v‖₂ of row `t` of a [T, d] tensor, in float64. */
export function rowNorm(t: HookTensor, row: number): number {
  const d = t.dims[1];
  let s = 0;
  for (let i = row * d; i < (row + 1) * d; i++) s += t.data[i] * t.data[i];
  return Math.sqrt(s);
}
