/**
 * Ratios measured on noisy machines: A and B alternate call by call within every round (the
 * first of each pair alternating, so a drift of the machine biases neither side), each round
 * gives one ratio median(A)/median(B), and a row reports the median and the range (min–max)
 * of those per-round ratios rather than a ratio of means (one stalled call cannot move a median).
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new Error('summary of an empty list');
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Per-round ratios a[i] / b[i]. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`ratio of ${a.length} rounds by ${b.length} rounds`);
  return a.map((x, i) => x / b[i]);
}

export interface Interleaved {
  /** Per-round values of each side (ms, or whatever the measures return). */
  a: number[];
  b: number[];
  /** Per-round a / b. */
  ratio: number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One measurement, e.g. the ms of one call. */
export type Measure = () => Promise<number>;

/**
 * Runs `rounds` rounds after one untimed warm-up call of each side (session creation,
 * first-run allocations). Within a round the sides alternate call by call, `reps` calls
 * each, the first call of each pair alternating too (ABBA…), so both see the same moments
 * of the machine; a round's value for a side is the median of its calls. `gapMs` of idle
 * time before each timed call lets the other side's worker threads stop spinning (ONNX
 * Runtime's and ggml's thread pools busy-wait for a while after a parallel section).
 */
export async function interleave(rounds: number, a: Measure, b: Measure, reps = 1, gapMs = 0): Promise<Interleaved> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be a whole number ≥ 1, got ${rounds}`);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`reps must be a whole number ≥ 1, got ${reps}`);
  await a();
  await b();
  const out: Interleaved = { a: [], b: [], ratio: [] };
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    const xs: number[] = [], ys: number[] = [];
    const A = async () => (gapMs > 0 && (await sleep(gapMs)), xs.push(await a()));
    const B = async () => (gapMs > 0 && (await sleep(gapMs)), ys.push(await b()));
    for (let i = 0; i < reps; i++, k++) {
      if (k % 2 === 0) {
        await A();
        await B();
      } else {
        await B();
        await A();
      }
    }
    out.a.push(median(xs));
    out.b.push(median(ys));
  }
  out.ratio = ratios(out.a, out.b);
  return out;
}

/** Wall time of one call, in ms. */
export const timed =
  (fn: () => Promise<unknown>): Measure =>
  async () => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };

/** How many calls of each side per round make about `targetMs` per side (one call timed after a warm-up call). */
export async function repsFor(fn: () => Promise<unknown>, targetMs: number, max = 200): Promise<number> {
  await fn();
  const t = await timed(fn)();
  return Math.max(1, Math.min(max, Math.round(targetMs / Math.max(t, 1e-3))));
}

/** "1.07× (1.02–1.15)", or with another unit/precision. */
export function formatSummary(s: Summary, unit = '×', digits = 2): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

