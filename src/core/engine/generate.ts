/**
 * Greedy decoding. Each step re-runs the whole prefix through the logits-only graph: for
 * the default 260K model that costs ~1 ms a step; the KV-cache graph of the engine issue
 * replaces it for large models.
 */
import { LenspressError } from '../errors.ts';
import type { HookedModel } from './hooked-model.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops after emitting one of these (default: the model's EOS). */
  stopIds?: readonly number[];
  /** Called after each new token; return false to stop early (the page's Stop button). */
  onToken?: (id: number) => boolean | void;
}

export function argmax(v: ArrayLike<number>, start = 0, end = v.length): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (v[i] > v[best]) best = i;
  return best - start;
}

/** Returns only the new token ids. */
export async function generateGreedy(model: HookedModel, prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
  const { n_ctx, d_vocab, eos_token_id } = model.config;
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) {
    throw new LenspressError('bad-option', `max new tokens must be a whole number ≥ 0, got ${opts.maxNewTokens}`);
  }
  const stop = new Set(opts.stopIds ?? [eos_token_id]);
  const ids = [...prompt];
  const out: number[] = [];
  while (out.length < opts.maxNewTokens && ids.length < n_ctx) {
    const logits = (await model.run(ids, ['logits'])).get('logits')!.data;
    const next = argmax(logits, (ids.length - 1) * d_vocab, ids.length * d_vocab);
    out.push(next);
    ids.push(next);
    if (opts.onToken?.(next) === false || stop.has(next)) break;
  }
  return out;
}
