/**
 * Bigram statistics for the first-order (Markov) probe (methods.md §7), and the small
 * statistics that compare two distributions over next tokens. P(y|x) = c(x y) / c(x), where
 * c(x) = Σ_y c(x y) counts the times x is followed by a token, so each row sums to 1.
 * Pairs never cross a document boundary.
 */
import { LenspressError } from '../errors.ts';

export interface BigramCounts {
  vocab: number;
  documents: number;
  tokens: number;
  /** Number of (x, y) pairs counted. */
  pairs: number;
  /** x → (y → c(x y)). */
  next: Map<number, Map<number, number>>;
  /** c(x) for every x (0 when x is never followed by a token). */
  from: Float64Array;
  /** c(· y): how often y is the second token of a pair (the unigram baseline's counts). */
  to: Float64Array;
}

export function countBigrams(sequences: readonly (readonly number[])[], vocab: number): BigramCounts {
  const next = new Map<number, Map<number, number>>();
  const from = new Float64Array(vocab), to = new Float64Array(vocab);
  let tokens = 0, pairs = 0;
  for (const seq of sequences) {
    for (let i = 0; i < seq.length; i++) {
      const y = seq[i];
      if (!Number.isInteger(y) || y < 0 || y >= vocab) throw new LenspressError('bad-token-id', `corpus token id ${y} is outside the vocabulary (0..${vocab - 1})`);
      tokens++;
      if (i === 0) continue;
      const x = seq[i - 1];
      let row = next.get(x);
      if (!row) next.set(x, (row = new Map()));
      row.set(y, (row.get(y) ?? 0) + 1);
      from[x]++;
      to[y]++;
      pairs++;
    }
  }
  return { vocab, documents: sequences.length, tokens, pairs, next, from, to };
}

/** The tokens seen after x, most frequent first (ties: lower id first). */
export function sortedNext(c: BigramCounts, x: number): [number, number][] {
  return [...(c.next.get(x) ?? new Map<number, number>())].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

/** Average ranks (1-based; ties share the mean of their positions). */
export function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const ranks = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let t = i; t <= j; t++) ranks[order[t]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's ρ with tie-corrected (average) ranks: Pearson's r of the ranks; null when undefined (n < 2 or a constant side). */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: lengths ${a.length} and ${b.length} differ`);
  const n = a.length;
  if (n < 2) return null;
  const ra = averageRanks(a), rb = averageRanks(b);
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) ** 2;
    sbb += (rb[i] - mean) ** 2;
  }
  return saa === 0 || sbb === 0 ? null : sab / Math.sqrt(saa * sbb);
}

/**
 * KL(P ‖ Q_ε) in nats over the support of P, with Q_ε = (1 − ε)·Q + ε/V so that a token the
 * probe gives (numerically) zero probability costs at most log(V/ε) instead of infinity.
 * `p` and `q` are aligned: q[i] = Q(y_i) for the y_i with P(y_i) = p[i] > 0.
 */
export function klSmoothed(p: readonly number[], q: readonly number[], epsilon: number, vocab: number): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * (Math.log(p[i]) - Math.log((1 - epsilon) * q[i] + epsilon / vocab));
  return kl;
}

/** |A ∩ B| / |A ∪ B| (1 for two empty sets). */
export function jaccard(a: readonly number[], b: readonly number[]): number {
  const sa = new Set(a), sb = new Set(b);
  const inter = [...sa].filter((x) => sb.has(x)).length;
  const union = new Set([...sa, ...sb]).size;
  return union === 0 ? 1 : inter / union;
}

export const mean = (v: readonly number[]): number => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN);

export function median(v: readonly number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
