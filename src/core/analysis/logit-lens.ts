/**
 * The logit lens (nostalgebraist 2020) generalised as in InTraVisTo (methods.md §2): decode
 * any captured state (lens-states.ts) at every row and position through a decoder
 * (lens-decoder.ts) after a normalisation, with top-k or iterative-subtraction secondary
 * representations (secondary.ts) and per-cell metrics (cell-metrics.ts).
 * All rows × positions decode as one batch in one run of the decode graph. Returns plain
 * serialisable data for the renderer.
 */
import type { HookedModel } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';
import type { NormMode } from '../onnx/decode-graph.ts';
import { blockShares, type CellMetrics } from './cell-metrics.ts';
import { type DecodeBatch, decoderAlpha, type DecoderName, DECODERS, type DecoderWeights, isTied, LensDecoder } from './lens-decoder.ts';
import { isNormalisedRow, LENS_STATES, type LensState, lensHooks, rowLabel, stateAt, stateRows } from './lens-states.ts';
import { type IterativeSecondary, iterativeSubtraction } from './secondary.ts';

export { lensHooks };
export type SecondaryMode = 'topk' | 'iterative';

export interface LogitLensOptions {
  /** How many tokens each cell lists (top-1 is shown, the rest on hover/focus). */
  k: number;
  norm: NormMode;
  /** Default 'block'. */
  state?: LensState;
  /** Default 'output'. */
  decoder?: DecoderName;
  /** Default 'topk'. */
  secondary?: SecondaryMode;
  /** Tokens before this position are the prompt, the rest were generated (drawn as a boundary). */
  promptLength?: number;
}

export interface LensSettings {
  state: LensState;
  decoder: DecoderName;
  norm: NormMode;
  secondary: SecondaryMode;
  k: number;
}

export interface LensCell {
  ids: number[];
  probs: number[];
  entropy: number;
  /** maxprob only: the matrix whose top probability was higher. */
  winner?: 'in' | 'out';
  /** secondary = 'iterative' only. */
  secondary?: IterativeSecondary;
  metrics: CellMetrics;
}

export interface LogitLensGrid {
  rowLabels: string[];
  /** The methods' row index of each grid row: 0 = embedding, ℓ = block ℓ, L+1 = final norm (deltas have 1..L). */
  rows: number[];
  nLayers: number;
  vocabSize: number;
  /** W_in = W_out: every decoder is the same matrix. */
  tied: boolean;
  /** [grid row][position], grid row 0 at the bottom. */
  cells: LensCell[][];
  /** The pieces of every token id that appears in the grid or the input. */
  pieces: Record<number, string>;
  inputIds: number[];
  /** Present when some positions were generated: positions ≥ promptLength. */
  promptLength?: number;
  settings: LensSettings;
}

export const DEFAULT_LENS_OPTIONS: LogitLensOptions = { k: 5, norm: 'model' };

const NORMS: readonly NormMode[] = ['none', 'norm', 'model'];
const SECONDARIES: readonly SecondaryMode[] = ['topk', 'iterative'];

/** The options with defaults filled in; values from untyped callers (a Worker message, props) are checked. */
export function lensSettings(opts: LogitLensOptions): LensSettings {
  const s: LensSettings = { state: opts.state ?? 'block', decoder: opts.decoder ?? 'output', norm: opts.norm, secondary: opts.secondary ?? 'topk', k: opts.k };
  const check = <T extends string>(name: string, value: T, allowed: readonly T[]) => {
    if (!allowed.includes(value)) throw new LenspressError('bad-option', `${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  };
  check('state', s.state, LENS_STATES);
  check('decoder', s.decoder, DECODERS);
  check('norm', s.norm, NORMS);
  check('secondary', s.secondary, SECONDARIES);
  return s;
}

export function modelDecoderWeights(model: HookedModel): DecoderWeights {
  const c = model.config, w = model.model.weights;
  return { d_model: c.d_model, d_vocab: c.d_vocab, W_in: w.W_E, W_out: w.W_U, gamma: w.ln_final_w, eps: c.norm_eps, tied: c.tied_embeddings || w.W_E === w.W_U };
}

const decoders = new WeakMap<HookedModel, Map<string, LensDecoder>>();

/** One decoder (one session) per model and graph; tied models share one across decoders. */
export function lensDecoder(model: HookedModel, decoder: DecoderName, norm: NormMode, k: number): LensDecoder {
  let cache = decoders.get(model);
  if (!cache) decoders.set(model, (cache = new Map()));
  const weights = modelDecoderWeights(model);
  const key = LensDecoder.key(weights, decoder, norm, k);
  let dec = cache.get(key);
  if (!dec) cache.set(key, (dec = new LensDecoder(model.backend, weights, decoder, norm, k)));
  return dec;
}

export async function computeLogitLens(model: HookedModel, ids: readonly number[], piece: (id: number) => string, opts: LogitLensOptions = DEFAULT_LENS_OPTIONS): Promise<LogitLensGrid> {
  const settings = lensSettings(opts);
  const { state, decoder: decoderName, norm, k } = settings;
  const c = model.config, L = c.n_layers, T = ids.length, d = c.d_model;
  const pl = opts.promptLength;
  if (pl !== undefined && !(Number.isInteger(pl) && pl >= 0 && pl <= T)) throw new LenspressError('bad-option', `promptLength must be a whole number from 0 to ${T} (the number of tokens), got ${pl}`);
  const captured = await model.run(ids, lensHooks(L));
  const get = (h: string) => captured.get(h)!.data;
  const rows = stateRows(state, L);

  // Stack all rows × T states into one [N, d] batch; each cell's KL compares with the row below.
  const N = rows.length * T;
  const batch: DecodeBatch = { states: new Float32Array(N * d), applyNorm: new Uint8Array(N), alpha: new Float32Array(N), pred: new Int32Array(N) };
  rows.forEach((r, i) => {
    batch.states.set(stateAt(state, r, L, get), i * T * d);
    batch.applyNorm.fill(isNormalisedRow(state, r, L) ? 0 : 1, i * T, (i + 1) * T);
    batch.alpha.fill(decoderAlpha(decoderName, r, L), i * T, (i + 1) * T);
    for (let t = 0; t < T; t++) batch.pred![i * T + t] = i === 0 ? t : (i - 1) * T + t;
  });

  const decoder = lensDecoder(model, decoderName, norm, k);
  const res = await decoder.decode(batch);
  const secondary = settings.secondary === 'iterative' ? await iterativeSubtraction(decoder, batch, res) : undefined;
  const shares = blockShares(get, L, T, d);

  const pieces: Record<number, string> = {};
  const note = (id: number) => (pieces[id] ??= piece(id));
  ids.forEach(note);
  const cells = rows.map((r, i) =>
    ids.map((_, t): LensCell => {
      const n = i * T + t;
      const cellIds = Array.from(res.topIds.subarray(n * k, (n + 1) * k), Number);
      cellIds.forEach(note);
      const block = r >= 1 && r <= L;
      const cell: LensCell = {
        ids: cellIds,
        probs: Array.from(res.topP.subarray(n * k, (n + 1) * k)),
        entropy: res.entropy[n],
        // KL ≥ 0; float32 rounding can leave −1e-7 between equal distributions.
        metrics: { kl: i === 0 ? null : Math.max(0, res.kl[n]), attShare: block ? shares.att[r - 1][t] : null, ffShare: block ? shares.ff[r - 1][t] : null },
      };
      if (decoderName === 'maxprob') cell.winner = res.winnerIn?.[n] ? 'in' : 'out';
      if (secondary) {
        cell.secondary = secondary[n];
        secondary[n].ids.forEach(note);
      }
      return cell;
    }),
  );
  return {
    rowLabels: rows.map((r) => rowLabel(state, r, L)),
    rows,
    nLayers: L,
    vocabSize: c.d_vocab,
    tied: isTied(modelDecoderWeights(model)),
    cells,
    pieces,
    inputIds: [...ids],
    ...(pl !== undefined ? { promptLength: pl } : {}),
    settings,
  };
}
