/**
 * Choosing the next token from logits, in the order Hugging Face's `generate` applies its
 * warpers: temperature → top-k → top-p (nucleus) → sample. Temperature 0 is greedy.
 * Sampling is seeded (mulberry32), so a figure's generated text is reproducible.
 */
import { LenspressError } from '../errors.ts';
import { mulberry32 } from '../model/random.ts';

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens (0 = no limit). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit). */
  topP: number;
  seed: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1, seed: 0 };

export function validateSampling(s: SamplingOptions): void {
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) throw new LenspressError('bad-option', `temperature must be ≥ 0, got ${s.temperature}`);
  if (!Number.isInteger(s.topK) || s.topK < 0) throw new LenspressError('bad-option', `top-k must be a whole number ≥ 0, got ${s.topK}`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new LenspressError('bad-option', `top-p must be in (0, 1], got ${s.topP}`);
}

export function argmax(v: ArrayLike<number>, start = 0, end = v.length): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (v[i] > v[best]) best = i;
  return best - start;
}

export class Sampler {
  private readonly rand: () => number;

  constructor(readonly options: SamplingOptions) {
    validateSampling(options);
    this.rand = mulberry32(options.seed);
  }

  /** The next token for one position's logits [d_vocab]. */
  next(logits: ArrayLike<number>): number {
    const { temperature, topK, topP } = this.options;
    if (temperature === 0) return argmax(logits);
    // Candidates sorted by logit; softmax in float64 over the survivors.
    let order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
    if (topK > 0) order = order.slice(0, topK);
    const max = logits[order[0]];
    let probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
    const z = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / z);
    if (topP < 1) {
      let cum = 0, keep = 0;
      while (keep < probs.length && cum < topP) cum += probs[keep++];
      order = order.slice(0, keep);
      probs = probs.slice(0, keep).map((p) => p / cum);
    }
    let r = this.rand();
    for (let i = 0; i < order.length; i++) if ((r -= probs[i]) < 0) return order[i];
    return order[order.length - 1];
  }
}
