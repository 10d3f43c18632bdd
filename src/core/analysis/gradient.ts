/**
 * Gradient importance, the grad-CAM analogue of methods.md §3: for a target
 * L = logits[p, y] (default: the model's greedy next token at the last position), the L2 norm
 * ‖∂L/∂h‖₂ of every block output x^(ℓ) (row 0 = the embedding x^(0)) and every intermediate
 * x'^(ℓ), at every position. Computed by the hand-derived gradient graph
 * (onnx/backward-graph.ts) on whatever ONNX Runtime the backend brings (Node, wasm, WebGPU).
 * Returns plain serialisable data for a heatmap.
 */
import { type Backend, createSession, type InferenceSession, type OrtModule } from '../engine/runtime.ts';
import { validateTokenIds } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import { buildGradientGraph, GRAD_NORM_MID, GRAD_NORM_POST } from '../onnx/backward-graph.ts';
import { DEFAULT_ROPE_POSITIONS } from '../onnx/llama-graph.ts';

export interface GradientTarget {
  /** Position whose logit is differentiated; default: the last position. */
  position?: number;
  /** Token id whose logit is differentiated; default: the model's argmax at `position`. */
  tokenId?: number;
}

export interface GradientImportance {
  /** Labels of gradNorm's rows: 'embed', 'block 1' … 'block L'. */
  rows: string[];
  /** Labels of midNorm's rows: 'block 1 mid' … 'block L mid'. */
  midRows: string[];
  /** ‖∂L/∂x^(r)‖₂ [row 0..L][position]; row 0 is the embedding, row ℓ block ℓ's output. */
  gradNorm: number[][];
  /** ‖∂L/∂x'^(ℓ)‖₂ [block ℓ−1][position]: the state after attention, before the MLP. */
  midNorm: number[][];
  /** The target actually used (tokenId resolved when it was the default) and its logit. */
  target: { position: number; tokenId: number; logit: number };
  inputIds: number[];
}

/** Sessions per runtime module (node and web must not share), then per model. */
const sessions = new WeakMap<OrtModule, WeakMap<LoadedModel, Map<string, Promise<InferenceSession>>>>();

/** One session per (runtime, model, execution providers, threads, RoPE table size); every target shares it. */
function gradientSession(backend: Backend, model: LoadedModel, T: number): Promise<InferenceSession> {
  const c = model.config;
  const maxPositions = T > Math.min(c.n_ctx, DEFAULT_ROPE_POSITIONS) ? c.n_ctx : undefined;
  let byModel = sessions.get(backend.ort);
  if (!byModel) sessions.set(backend.ort, (byModel = new WeakMap()));
  let cache = byModel.get(model);
  if (!cache) byModel.set(model, (cache = new Map()));
  const key = `${backend.executionProviders.join(',')}#${backend.threads ?? ''}#${maxPositions ?? ''}`;
  let s = cache.get(key);
  if (!s) {
    s = createSession(backend, buildGradientGraph(c, model.weights, { maxPositions }));
    const mine = s;
    s.catch(() => cache.get(key) === mine && cache.delete(key)); // a failed create may succeed on retry
    cache.set(key, s);
  }
  return s;
}

function checkTarget(model: LoadedModel, T: number, target: GradientTarget): { position: number; tokenId: number } {
  const position = target.position ?? T - 1;
  if (!Number.isInteger(position) || position < 0 || position >= T) {
    throw new LenspressError('bad-target', `target position must be a whole number from 0 to ${T - 1} (the prompt has ${T} tokens), got ${position}`);
  }
  const V = model.config.d_vocab;
  const tokenId = target.tokenId ?? -1;
  if (target.tokenId !== undefined && (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= V)) {
    throw new LenspressError('bad-target', `target token id must be a whole number from 0 to ${V - 1}, got ${target.tokenId}`);
  }
  return { position, tokenId };
}

export async function computeGradientImportance(backend: Backend, model: LoadedModel, ids: readonly number[], target: GradientTarget = {}): Promise<GradientImportance> {
  validateTokenIds(model, ids);
  const T = ids.length, L = model.config.n_layers;
  const { position, tokenId } = checkTarget(model, T, target);
  const session = await gradientSession(backend, model, T);
  const { Tensor } = backend.ort;
  const out = await session.run({
    input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]),
    target_position: new Tensor('int64', BigInt64Array.from([BigInt(position)]), [1]),
    target_token: new Tensor('int64', BigInt64Array.from([BigInt(tokenId)]), [1]),
  });
  const post = out[GRAD_NORM_POST].data as Float32Array, mid = out[GRAD_NORM_MID].data as Float32Array;
  const rowsOf = (data: Float32Array, n: number) => Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * T, (r + 1) * T)));
  return {
    rows: ['embed', ...Array.from({ length: L }, (_, l) => `block ${l + 1}`)],
    midRows: Array.from({ length: L }, (_, l) => `block ${l + 1} mid`),
    gradNorm: rowsOf(post, L + 1),
    midNorm: rowsOf(mid, L),
    target: { position, tokenId: Number((out['target.token_id'].data as BigInt64Array)[0]), logit: (out['target.logit'].data as Float32Array)[0] },
    inputIds: [...ids],
  };
}
