/**
 * Correlation tests with the p-values scipy.stats gives (methods.md §4: "p-values must come
 * from the proper distributions, as scipy computes them"), two-sided throughout:
 * - Pearson r: scipy.stats.pearsonr — r ~ Beta(n/2−1, n/2−1) on (−1, 1) under H0, which is
 *   the t-test with n−2 degrees of freedom: p = I_{1−r²}((n−2)/2, 1/2).
 * - Spearman ρ: scipy.stats.spearmanr — Pearson r of average ranks, t = ρ·√((n−2)/((1+ρ)(1−ρ)))
 *   on Student's t with n−2 degrees of freedom.
 * - Kendall τ-b: scipy.stats.kendalltau(method='auto') — the exact null distribution of the
 *   concordant-pair count (Kendall 1970, ch. 4) when there are no ties and n ≤ 33 or at most one
 *   pair is out of order; otherwise the normal approximation with the tie-corrected variance
 *   of concordant − discordant (Kendall 1970, ch. 4; scipy's formula term for term).
 * Special functions: the regularized incomplete beta function by its continued fraction,
 * evaluated with the modified Lentz method (Press et al., Numerical Recipes 3rd ed. §6.4);
 * ln Γ by the Lanczos approximation (g = 7, 9 terms) and Stirling's series for x ≥ 10; erfc
 * by its power series below 1.5 and its continued fraction above (as CPython's math module
 * did before it called libm). tests/unit/stats.test.ts checks all of them against scipy.
 * Everything runs in float64 on plain arrays: no DOM, no Node.
 */

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
const LN_SQRT_2PI = 0.9189385332046728;
/** B_2k / (2k(2k−1)), k = 1..8: the coefficients of x^−(2k−1) in Stirling's series for ln Γ. */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/** ln Γ(x) − ((x−½)·ln x − x + ln √(2π)) for x ≥ 10: Stirling's series, 8 terms (the first omitted one is below 2e-18). */
function stirlingTail(x: number): number {
  const r = 1 / x, r2 = r * r;
  let series = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) series = STIRLING[k] + r2 * series;
  return r * series;
}

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingTail(x);
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x); // reflection
  const y = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (y + i);
  const t = y + 7.5;
  return LN_SQRT_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * ln B(a, b). For a large argument, ln Γ(big) − ln Γ(big + small) is taken from Stirling's
 * formula term by term, since subtracting two ln Γ of ~38 000 (n ≈ 10⁴ pairs) would leave an
 * absolute error of ~1e-11 in the t-test's p-values.
 */
function lnBeta(a: number, b: number): number {
  const big = Math.max(a, b), small = Math.min(a, b);
  if (big < 10) return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
  const ratio = -(big - 0.5) * Math.log1p(small / big) - small * Math.log(big + small) + small + stirlingTail(big) - stirlingTail(big + small);
  return lnGamma(small) + ratio;
}

/** The continued fraction of I_x(a, b) (Numerical Recipes' betacf), modified Lentz. */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300, EPS = 1e-16, MAX_ITERATIONS = 100_000; // ~√max(a, b) iterations are needed
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1, d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  return h; // not reached for the a, b of correlation tests (n up to millions)
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export const betaIncReg = (a: number, b: number, x: number): number => betaIncRegPair(a, b, x, 1 - x);

/**
 * I_x(a, b) given both x and y = 1 − x, each computed without cancellation by the caller:
 * for the t distribution x = ν/(ν+t²) is within 1e-6 of 1 at n ≈ 10⁴, and 1 − x computed
 * from the rounded x would carry a relative error of 1e-10.
 */
function betaIncRegPair(a: number, b: number, x: number, y: number): number {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return NaN;
  if (x === 0) return 0;
  if (y === 0) return 1;
  const lnFront = a * Math.log(x) + b * Math.log(y) - lnBeta(a, b);
  // The fraction converges fast for x < (a+1)/(a+b+2); beyond, use I_x(a,b) = 1 − I_{1−x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, y)) / b;
}

/** P(T > t) for Student's t with `df` degrees of freedom (scipy.stats.t.sf). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const tail = 0.5 * betaIncRegPair(df / 2, 0.5, df / (df + t * t), (t * t) / (df + t * t));
  return t > 0 ? tail : 1 - tail;
}

/** erfc(x); ndtr built on it agrees with scipy's to 3e-13 relative down to 1e-300 (stats.test.ts). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 1.5) {
    // erf(x) = 2x·e^{−x²}/√π · Σ_k (2x²)^k / (1·3·…·(2k+1)), summed from the inside out
    const x2 = x * x;
    let acc = 0, fk = 25.5;
    for (let i = 0; i < 25; i++) {
      acc = 2 + (x2 * acc) / fk;
      fk -= 1;
    }
    return 1 - (acc * x * Math.exp(-x2)) / Math.sqrt(Math.PI);
  }
  let cf = 0;
  if (ax < 30) {
    // erfc(x) = e^{−x²}/√π · x / (x² + 1/2 − (1·1/2)/(x² + 5/2 − (2·3/2)/(x² + 9/2 − …))), 50 terms
    const x2 = ax * ax;
    let a = 0, da = 0.5, p = 1, pLast = 0, q = da + x2, qLast = 1;
    for (let i = 0; i < 50; i++) {
      a += da;
      da += 2;
      const b = da + x2;
      [p, pLast] = [b * p - a * pLast, p];
      [q, qLast] = [b * q - a * qLast, q];
    }
    cf = ((p / q) * ax * Math.exp(-x2)) / Math.sqrt(Math.PI);
  }
  return x > 0 ? cf : 2 - cf;
}

/** P(Z > z) for the standard normal (scipy.special.ndtr(−z)). */
export const normalSf = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

/** Ranks 1..n, ties sharing their average rank (scipy.stats.rankdata, method='average'). */
export function rankAverage(values: ArrayLike<number>): Float64Array {
  const n = values.length, order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const average = (i + 1 + j) / 2; // ranks i+1..j
    for (let k = i; k < j; k++) ranks[order[k]] = average;
    i = j;
  }
  return ranks;
}

export interface CorrelationTest {
  /** r, ρ or τ-b; NaN when undefined (fewer than two pairs, or a constant input). */
  statistic: number;
  /** Two-sided p-value; NaN when undefined. */
  pValue: number;
  n: number;
}

export interface KendallTest extends CorrelationTest {
  /** Which null distribution gave the p-value (scipy's method='auto' choice). */
  method: 'exact' | 'asymptotic';
}

function checkPairs(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`correlation needs paired samples: ${x.length} x values, ${y.length} y values`);
  return x.length;
}

const isConstant = (v: ArrayLike<number>) => Array.prototype.every.call(v, (e: number) => e === v[0]);

/** Pearson's r as scipy computes it: centred, scaled by the largest deviation, then normed. */
function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const centred = (v: ArrayLike<number>) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += v[i];
    mean /= n;
    const c = Float64Array.from(v as ArrayLike<number>, (e) => e - mean);
    const max = c.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
    const norm = max * Math.sqrt(c.reduce((s, e) => s + (e / max) ** 2, 0));
    return c.map((e) => e / norm);
  };
  const cx = centred(x), cy = centred(y);
  let r = 0;
  for (let i = 0; i < n; i++) r += cx[i] * cy[i];
  return Math.min(1, Math.max(-1, r));
}

/** Two-sided p of a correlation coefficient on the t distribution with n − 2 degrees of freedom. */
const tTestP = (r: number, n: number) => betaIncRegPair((n - 2) / 2, 0.5, (1 - r) * (1 + r), r * r);

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): CorrelationTest {
  const n = checkPairs(x, y);
  if (n < 2 || isConstant(x) || isConstant(y)) return { statistic: NaN, pValue: NaN, n };
  const r = pearsonR(x, y);
  if (n === 2) return { statistic: Math.round(r), pValue: 1, n }; // scipy: exactly ±1, p = 1
  return { statistic: r, pValue: tTestP(r, n), n };
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): CorrelationTest {
  const n = checkPairs(x, y);
  if (n < 2 || isConstant(x) || isConstant(y)) return { statistic: NaN, pValue: NaN, n };
  const rho = pearsonR(rankAverage(x), rankAverage(y));
  return { statistic: rho, pValue: n > 2 ? tTestP(rho, n) : NaN, n }; // n = 2: no degrees of freedom
}

/**
 * Two-sided exact p-value of Kendall's statistic for n untied pairs with c concordant pairs
 * (scipy.stats._mstats_basic._kendall_p_exact): counts permutations by inversions.
 */
export function kendallExactP(n: number, concordant: number): number {
  const total = (n * (n - 1)) / 2, c = Math.min(concordant, total - concordant);
  let before = 1; // (n−1)!
  for (let i = 2; i < n; i++) before *= i;
  const factorial = before * n;
  if (n <= 2) return 1;
  if (c === 0) return n < 171 ? 2 / factorial : 0;
  if (c === 1) return n < 172 ? 2 / before : 0;
  if (4 * c === n * (n - 1)) return 1;
  if (n >= 171) throw new RangeError('exact Kendall p-values are only computed for n ≤ 170 (scipy uses them for n ≤ 33)');
  // counts[k] = permutations of j items with k inversions, for k ≤ c (Kendall 1970, ch. 4)
  const counts = new Float64Array(c + 1);
  counts[0] = counts[1] = 1;
  for (let j = 3; j <= n; j++) {
    for (let k = 1; k <= c; k++) counts[k] += counts[k - 1];
    if (j <= c) {
      const cumulative = counts.slice(); // numpy's `new[j:] -= new[:c+1-j]` reads the old values
      for (let k = j; k <= c; k++) counts[k] = cumulative[k] - cumulative[k - j];
    }
  }
  const p = (2 * counts.reduce((s, e) => s + e, 0)) / factorial;
  return Math.min(1, Math.max(0, p));
}

/** Tie statistics of dense ranks: Σ t(t−1)/2, Σ t(t−1)(t−2), Σ t(t−1)(2t+5) over tie groups of size t. */
function tieStats(ranks: Int32Array): [number, number, number] {
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  let ties = 0, v0 = 0, v1 = 0;
  for (const t of counts.values()) {
    if (t < 2) continue;
    ties += (t * (t - 1)) / 2;
    v0 += t * (t - 1) * (t - 2);
    v1 += t * (t - 1) * (2 * t + 5);
  }
  return [ties, v0, v1];
}

/** Kendall's τ-b with scipy.stats.kendalltau's p-value (method='auto'); O(n log n). */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): KendallTest {
  const n = checkPairs(x, y), nan: KendallTest = { statistic: NaN, pValue: NaN, n, method: 'asymptotic' };
  if (n < 2) return nan;
  const dense = (v: ArrayLike<number>) => {
    const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => v[i] - v[j]);
    const r = new Int32Array(n);
    for (let k = 0, rank = 0; k < n; k++) r[order[k]] = k > 0 && v[order[k]] === v[order[k - 1]] ? rank : ++rank;
    return r;
  };
  const rx = dense(x), ry = dense(y);
  // Sort by (x, y); a discordant pair is then a strict inversion of y, counted with a Fenwick tree.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => rx[i] - rx[j] || ry[i] - ry[j]);
  const tree = new Int32Array(n + 1);
  let discordant = 0;
  for (let k = 0; k < n; k++) {
    const r = ry[order[k]];
    let notAbove = 0; // earlier elements with y rank ≤ r
    for (let i = r; i > 0; i -= i & -i) notAbove += tree[i];
    discordant += k - notAbove;
    for (let i = r; i <= n; i += i & -i) tree[i]++;
  }
  let jointTies = 0;
  for (let k = 0, run = 1; k < n; k++) {
    const next = order[k + 1], same = k + 1 < n && rx[next] === rx[order[k]] && ry[next] === ry[order[k]];
    if (same) run++;
    else {
      jointTies += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  const [xTies, x0, x1] = tieStats(rx), [yTies, y0, y1] = tieStats(ry);
  const total = (n * (n - 1)) / 2;
  if (xTies === total || yTies === total) return nan;
  const conMinusDis = total - xTies - yTies + jointTies - 2 * discordant;
  const tau = Math.min(1, Math.max(-1, conMinusDis / Math.sqrt(total - xTies) / Math.sqrt(total - yTies)));
  if (xTies === 0 && yTies === 0 && (n <= 33 || Math.min(discordant, total - discordant) <= 1)) {
    return { statistic: tau, pValue: kendallExactP(n, total - discordant), n, method: 'exact' };
  }
  const m = n * (n - 1);
  const variance = (m * (2 * n + 5) - x1 - y1) / 18 + (2 * xTies * yTies) / m + (x0 * y0) / (9 * m * (n - 2));
  return { statistic: tau, pValue: 2 * normalSf(Math.abs(conMinusDis / Math.sqrt(variance))), n, method: 'asymptotic' };
}

export interface Correlations {
  pearson: CorrelationTest;
  spearman: CorrelationTest;
  kendall: KendallTest;
}

export const correlations = (x: ArrayLike<number>, y: ArrayLike<number>): Correlations => ({ pearson: pearson(x, y), spearman: spearman(x, y), kendall: kendallTauB(x, y) });
