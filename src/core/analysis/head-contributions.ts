/**
 * Per-head contribution (methods.md §4): each head's share of the attention output,
 * δ_att^(ℓ,h) = z^(ℓ,h)·W_O[h-slice] (Σ_h δ_att^(ℓ,h) = δ_att^(ℓ)), measured two ways per
 * (layer, head, position): its L2 norm ‖δ_att^(ℓ,h)‖₂ and its cosine to δ_att^(ℓ). The group
 * correlated the two over chosen positions (every (layer, head, position) triple is one pair)
 * and moved from cosine to L2 norm; this reproduces that analysis with scipy's p-values
 * (stats.ts) and ranks heads by either measure.
 *
 * Input: the in-graph reductions `attn.hook_result_norm` / `attn.hook_result_cos` [pos, H]
 * (cheap to copy out even for 7B models), or the full `attn.hook_result` [pos, H, d_model];
 * when a run has both, they are checked to agree.
 */
import type { HookedModel, HookMap } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { blockHook } from '../model/hooks.ts';
import { requireHook } from './captured.ts';
import { type Correlations, correlations } from './stats.ts';

export type HeadSource = 'reduced' | 'full';

export type PositionChoice = 'all' | { first: number } | { last: number } | { list: number[] };

export interface HeadContributionOptions {
  /** Positions whose (layer, head) pairs enter the correlation and the table (default all). */
  positions?: PositionChoice;
  /** Rows of each top-heads table (default 10). */
  topK?: number;
}

export interface HeadRank {
  layer: number;
  head: number;
  /** Means over the chosen positions. */
  norm: number;
  cosine: number;
}

export interface HeadContributions {
  nLayers: number;
  nHeads: number;
  /** Sequence length T. */
  positions: number;
  /** [layer][position][head] */
  norm: number[][][];
  cosine: number[][][];
  /** The positions whose pairs were correlated and ranked. */
  chosen: number[];
  /** Norm vs cosine over every (layer, head, chosen position): n = L·H·|chosen| pairs. */
  correlation: Correlations;
  /** (layer, head) by mean norm / mean cosine over the chosen positions, highest first. */
  top: { byNorm: HeadRank[]; byCosine: HeadRank[] };
  source: HeadSource;
  /** When the run captured both forms: the largest differences between them. */
  agreement: { maxNormDiff: number; maxCosineDiff: number } | null;
}

/** The hooks to capture: the in-graph reductions (default) or the full per-head outputs. */
export function headHooks(config: Pick<ModelConfig, 'n_layers'>, source: HeadSource = 'reduced'): string[] {
  const names: string[] = [];
  for (let l = 0; l < config.n_layers; l++) {
    if (source === 'reduced') names.push(blockHook(l, 'attn.hook_result_norm'), blockHook(l, 'attn.hook_result_cos'));
    else names.push(blockHook(l, 'attn.hook_result'));
  }
  return names;
}

const HINT = 'capture headHooks(config)';

/** Norms and cosines [pos][head] of one layer from the full per-head outputs, in float64. */
function fromFull(hooks: HookMap, l: number): { norm: number[][]; cosine: number[][] } {
  const r = requireHook(hooks, blockHook(l, 'attn.hook_result'), 3, 'the head contributions', HINT);
  const [T, H, d] = r.dims;
  const norm: number[][] = [], cosine: number[][] = [];
  for (let t = 0; t < T; t++) {
    const total = new Float64Array(d);
    for (let h = 0; h < H; h++) for (let i = 0; i < d; i++) total[i] += r.data[(t * H + h) * d + i];
    const totalNorm = Math.sqrt(total.reduce((a, v) => a + v * v, 0));
    norm.push([]);
    cosine.push([]);
    for (let h = 0; h < H; h++) {
      let dot = 0, nn = 0;
      for (let i = 0; i < d; i++) {
        const v = r.data[(t * H + h) * d + i];
        dot += v * total[i];
        nn += v * v;
      }
      norm[t].push(Math.sqrt(nn));
      cosine[t].push(nn > 0 && totalNorm > 0 ? dot / (Math.sqrt(nn) * totalNorm) : 0);
    }
  }
  return { norm, cosine };
}

function fromReduced(hooks: HookMap, l: number): { norm: number[][]; cosine: number[][] } {
  const rows = (name: string) => {
    const { data, dims } = requireHook(hooks, name, 2, 'the head contributions', HINT);
    return Array.from({ length: dims[0] }, (_, t) => Array.from(data.subarray(t * dims[1], (t + 1) * dims[1])));
  };
  return { norm: rows(blockHook(l, 'attn.hook_result_norm')), cosine: rows(blockHook(l, 'attn.hook_result_cos')) };
}

export function choosePositions(choice: PositionChoice, T: number): number[] {
  const count = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 1 || n > T) throw new LenspressError('bad-option', `${what} must be a whole number from 1 to the prompt's ${T} tokens, got ${n}`);
    return n;
  };
  if (choice === 'all') return Array.from({ length: T }, (_, t) => t);
  if ('first' in choice) return Array.from({ length: count(choice.first, 'first N') }, (_, t) => t);
  if ('last' in choice) return Array.from({ length: count(choice.last, 'last N') }, (_, i) => T - choice.last + i);
  const bad = choice.list.find((t) => !Number.isInteger(t) || t < 0 || t >= T);
  if (bad !== undefined || choice.list.length === 0) throw new LenspressError('bad-option', `positions must be a non-empty list within 0..${T - 1}, got [${choice.list.join(', ')}]`);
  return [...new Set(choice.list)].sort((a, b) => a - b);
}

export function computeHeadContributions(hooks: HookMap, config: Pick<ModelConfig, 'n_layers' | 'n_heads'>, options: HeadContributionOptions = {}): HeadContributions {
  const L = config.n_layers, H = config.n_heads, topK = options.topK ?? 10;
  if (!Number.isInteger(topK) || topK < 1) throw new LenspressError('bad-option', `top-k must be a whole number ≥ 1, got ${topK}`);
  const hasReduced = hooks.has(blockHook(0, 'attn.hook_result_norm')), hasFull = hooks.has(blockHook(0, 'attn.hook_result'));
  const source: HeadSource = hasReduced || !hasFull ? 'reduced' : 'full';
  const norm: number[][][] = [], cosine: number[][][] = [];
  let agreement: HeadContributions['agreement'] = null;
  for (let l = 0; l < L; l++) {
    const m = source === 'reduced' ? fromReduced(hooks, l) : fromFull(hooks, l);
    if (m.norm[0]?.length !== H) throw new LenspressError('bad-hook', `the head contributions: layer ${l} has ${m.norm[0]?.length} heads, expected ${H}`);
    if (hasReduced && hasFull) {
      const f = fromFull(hooks, l);
      agreement ??= { maxNormDiff: 0, maxCosineDiff: 0 };
      m.norm.forEach((row, t) => row.forEach((v, h) => (agreement!.maxNormDiff = Math.max(agreement!.maxNormDiff, Math.abs(v - f.norm[t][h]) / Math.max(1, f.norm[t][h])))));
      m.cosine.forEach((row, t) => row.forEach((v, h) => (agreement!.maxCosineDiff = Math.max(agreement!.maxCosineDiff, Math.abs(v - f.cosine[t][h])))));
    }
    norm.push(m.norm);
    cosine.push(m.cosine);
  }
  // float32 reductions in the graph vs float64 here: anything past 1e-3 is a wrong graph, not rounding.
  if (agreement && (agreement.maxNormDiff > 1e-3 || agreement.maxCosineDiff > 1e-3)) {
    throw new LenspressError('hook-mismatch', `attn.hook_result_norm/cos disagree with attn.hook_result: norm by ${agreement.maxNormDiff}, cosine by ${agreement.maxCosineDiff} (expected ≤ 1e-3)`);
  }
  const T = norm[0].length;
  const chosen = choosePositions(options.positions ?? 'all', T);
  const x: number[] = [], y: number[] = [], ranks: HeadRank[] = [];
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++) {
      let sn = 0, sc = 0;
      for (const t of chosen) {
        x.push(norm[l][t][h]);
        y.push(cosine[l][t][h]);
        sn += norm[l][t][h];
        sc += cosine[l][t][h];
      }
      ranks.push({ layer: l, head: h, norm: sn / chosen.length, cosine: sc / chosen.length });
    }
  const by = (key: 'norm' | 'cosine') => [...ranks].sort((a, b) => b[key] - a[key] || a.layer - b.layer || a.head - b.head).slice(0, topK);
  return { nLayers: L, nHeads: H, positions: T, norm, cosine, chosen, correlation: correlations(x, y), top: { byNorm: by('norm'), byCosine: by('cosine') }, source, agreement };
}

/** Runs the model on `ids` and computes the head contributions. */
export async function runHeadContributions(model: HookedModel, ids: readonly number[], options: HeadContributionOptions = {}, source: HeadSource = 'reduced'): Promise<HeadContributions> {
  return computeHeadContributions(await model.run(ids, headHooks(model.config, source)), model.config, options);
}
