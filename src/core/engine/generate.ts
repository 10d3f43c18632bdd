/**
 * Generation with the key/value cache. The hooks asked for are captured at every step
 * (prefill: the prompt's positions; then one position per token), so a generated sequence's
 * internals need no second full pass: `mergeSteps` assembles them into full-sequence hooks.
 */
import { LenspressError } from '../errors.ts';
import { hookShape } from '../model/hooks.ts';
import type { HookedModel, HookMap, KvCache } from './hooked-model.ts';
import { GREEDY, Sampler, type SamplingOptions } from './sampling.ts';

export { argmax } from './sampling.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  sampling?: SamplingOptions;
  /** Generation stops after emitting one of these (default: the model's EOS). */
  stopIds?: readonly number[];
  /** Hooks to capture at every step (logits are always computed). */
  hooks?: readonly string[];
  /** Called after each new token; return false to stop early (the page's Stop button). */
  onToken?: (id: number) => boolean | void;
}

export interface Generation {
  /** Only the new token ids. */
  ids: number[];
  /** Per step: step 0 is the prompt, step i > 0 the position of new token i−1. */
  steps: HookMap[];
  stopReason: 'max-new-tokens' | 'stop-token' | 'context-full' | 'stopped';
}

export async function generate(model: HookedModel, prompt: readonly number[], opts: GenerateOptions): Promise<Generation> {
  const { n_ctx, d_vocab, eos_token_id } = model.config;
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) {
    throw new LenspressError('bad-option', `max new tokens must be a whole number ≥ 0, got ${opts.maxNewTokens}`);
  }
  const sampler = new Sampler(opts.sampling ?? GREEDY);
  const stop = new Set(opts.stopIds ?? [eos_token_id]);
  const hooks = [...new Set([...(opts.hooks ?? []), 'logits'])];
  const ids: number[] = [], steps: HookMap[] = [];
  let cache: KvCache | null = null;
  let input = [...prompt];
  let stopReason: Generation['stopReason'] = 'max-new-tokens';
  for (;;) {
    const r: { hooks: HookMap; cache: KvCache } = await model.step(input, cache, hooks);
    cache = r.cache;
    steps.push(r.hooks);
    if (ids.length >= opts.maxNewTokens) break;
    if (cache.length >= n_ctx) {
      stopReason = 'context-full';
      break;
    }
    const logits = r.hooks.get('logits')!.data;
    const next = sampler.next(logits.subarray((input.length - 1) * d_vocab, input.length * d_vocab));
    ids.push(next);
    input = [next];
    if (opts.onToken?.(next) === false) {
      stopReason = 'stopped';
      break;
    }
    if (stop.has(next)) {
      stopReason = 'stop-token';
      break;
    }
  }
  // The last sampled token has not been run yet; its internals need one more step.
  if (ids.length > 0 && steps.length === ids.length) steps.push((await model.step(input, cache, hooks)).hooks);
  return { ids, steps, stopReason };
}

/** Greedy ids only (the CLI's `generate`). */
export async function generateGreedy(model: HookedModel, prompt: readonly number[], opts: Omit<GenerateOptions, 'sampling' | 'hooks'>): Promise<number[]> {
  return (await generate(model, prompt, opts)).ids;
}

/**
 * Joins per-step hooks into hooks of the whole sequence, shaped as one full pass would give
 * them; attention patterns are zero-padded on the right (future keys get weight 0 anyway).
 */
export function mergeSteps(model: HookedModel, steps: readonly HookMap[]): HookMap {
  const c = model.config;
  // Every step carries logits [new positions, d_vocab]: they say how many positions it added.
  const total = steps.reduce((n, s) => n + s.get('logits')!.dims[0], 0);
  const merged: HookMap = new Map();
  for (const name of steps[0].keys()) {
    const dims = hookShape(c, name, total);
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    let pos = 0;
    for (const step of steps) {
      const t = step.get(name)!;
      if (name.endsWith('attn.hook_pattern')) {
        const [H, S, K] = t.dims;
        for (let h = 0; h < H; h++) for (let i = 0; i < S; i++) data.set(t.data.subarray((h * S + i) * K, (h * S + i + 1) * K), (h * total + pos + i) * total);
        pos += S;
      } else {
        data.set(t.data, (pos * data.length) / total);
        pos += t.dims[0];
      }
    }
    merged.set(name, { data, dims });
  }
  return merged;
}
