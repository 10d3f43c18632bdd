/**
 * The logit lens (nostalgebraist 2020; methods.md §2): decode each row's hidden state
 * through a decoder matrix. Rows: 0 = embedding x^(0), 1..L = block outputs x^(ℓ),
 * L+1 = the final normalised state. Returns plain serialisable data for the renderer.
 */
import type { HookedModel } from '../engine/hooked-model.ts';
import { type InferenceSession, sessionOptions } from '../engine/runtime.ts';
import { blockHook } from '../model/hooks.ts';
import { buildDecodeGraph, type NormMode } from '../onnx/decode-graph.ts';

export interface LogitLensOptions {
  /** How many tokens each cell lists (top-1 is shown, the rest on hover/focus). */
  k: number;
  norm: NormMode;
}

export interface LensCell {
  ids: number[];
  probs: number[];
  entropy: number;
}

export interface LogitLensGrid {
  rowLabels: string[];
  /** [row][position] */
  cells: LensCell[][];
  /** The pieces of every token id that appears in the grid or the input. */
  pieces: Record<number, string>;
  inputIds: number[];
  settings: { decoder: 'output'; norm: NormMode; k: number };
}

export const DEFAULT_LENS_OPTIONS: LogitLensOptions = { k: 5, norm: 'model' };

/** Hooks the lens reads: the embedding, every block output and the final norm. */
export function lensHooks(nLayers: number): string[] {
  return ['hook_embed', ...Array.from({ length: nLayers }, (_, l) => blockHook(l, 'hook_resid_post')), 'ln_final.hook_normalized'];
}

const decoders = new WeakMap<HookedModel, Map<string, Promise<InferenceSession>>>();

function decodeSession(model: HookedModel, opts: LogitLensOptions): Promise<InferenceSession> {
  let cache = decoders.get(model);
  if (!cache) decoders.set(model, (cache = new Map()));
  const key = `${opts.norm}:${opts.k}`;
  let s = cache.get(key);
  if (!s) {
    const c = model.config;
    const bytes = buildDecodeGraph({ d_model: c.d_model, d_vocab: c.d_vocab, W_dec: model.model.weights.W_U, gamma: model.model.weights.ln_final_w, eps: c.norm_eps, norm: opts.norm, k: opts.k });
    s = model.backend.ort.InferenceSession.create(bytes, sessionOptions(model.backend));
    cache.set(key, s);
  }
  return s;
}

export async function computeLogitLens(model: HookedModel, ids: readonly number[], piece: (id: number) => string, opts: LogitLensOptions = DEFAULT_LENS_OPTIONS): Promise<LogitLensGrid> {
  const c = model.config;
  const hooks = lensHooks(c.n_layers);
  const states = await model.run(ids, hooks);
  const T = ids.length, d = c.d_model, rows = hooks.length;

  // Stack all (L+2)·T states into one [N, d] batch for a single decode call.
  const batch = new Float32Array(rows * T * d);
  hooks.forEach((h, r) => batch.set(states.get(h)!.data, r * T * d));
  const applyNorm = new Uint8Array(rows * T).fill(1);
  applyNorm.fill(0, (rows - 1) * T); // row L+1 is ln_final's output already

  const { Tensor } = model.backend.ort;
  const session = await decodeSession(model, opts);
  const out = await session.run({ states: new Tensor('float32', batch, [rows * T, d]), apply_norm: new Tensor('bool', applyNorm, [rows * T, 1]) });
  const topP = out.top_p.data as Float32Array, topIds = out.top_ids.data as BigInt64Array, entropy = out.entropy.data as Float32Array;

  const pieces: Record<number, string> = {};
  const note = (id: number) => (pieces[id] ??= piece(id));
  ids.forEach(note);
  const cells: LensCell[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: LensCell[] = [];
    for (let t = 0; t < T; t++) {
      const n = r * T + t;
      const cellIds = Array.from(topIds.subarray(n * opts.k, (n + 1) * opts.k), Number);
      cellIds.forEach(note);
      row.push({ ids: cellIds, probs: Array.from(topP.subarray(n * opts.k, (n + 1) * opts.k)), entropy: entropy[n] });
    }
    cells.push(row);
  }
  const rowLabels = ['embed', ...Array.from({ length: c.n_layers }, (_, l) => `block ${l + 1}`), 'final norm'];
  return { rowLabels, cells, pieces, inputIds: [...ids], settings: { decoder: 'output', norm: opts.norm, k: opts.k } };
}
