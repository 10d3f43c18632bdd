/**
 * The lens's decoders (methods.md §2, InTraVisTo's menu): which matrix decodes row r of
 * L+2 rows, and a session wrapper around the decode graph that feeds a batch of states and
 * reads back only small per-row results (top-k, entropy, KL, one subtraction step).
 *
 *   output     W_out (the classic logit lens, nostalgebraist 2020)
 *   input      W_in
 *   linear     (1 − a)·W_in + a·W_out with a = r/(L+1)
 *   quadratic  the same with a = (r/(L+1))²
 *   maxprob    both; per cell the one whose top probability is higher (ties: W_out)
 *
 * Tied models (W_in = W_out, e.g. stories260K, Gemma) decode once through the one matrix
 * whatever the decoder: every interpolation is that matrix, and both max-probability
 * candidates are the same distribution (reported as won by W_out).
 */
import { LenspressError } from '../errors.ts';
import { type Backend, createSession, type InferenceSession } from '../engine/runtime.ts';
import { buildDecodeGraph, type DecodeMatrices, type NormMode } from '../onnx/decode-graph.ts';

export type DecoderName = 'output' | 'input' | 'linear' | 'quadratic' | 'maxprob';
export const DECODERS: readonly DecoderName[] = ['output', 'input', 'linear', 'quadratic', 'maxprob'];

export interface DecoderWeights {
  d_model: number;
  d_vocab: number;
  /** Input embedding [d_vocab, d_model]. */
  W_in: Float32Array;
  /** Unembedding [d_vocab, d_model]; the same array as W_in when tied. */
  W_out: Float32Array;
  /** Final-norm scale as multiplied. */
  gamma: Float32Array;
  eps: number;
  /** Set when the model says its embeddings are tied even if the arrays are copies. */
  tied?: boolean;
}

export const isTied = (w: DecoderWeights): boolean => w.tied === true || w.W_in === w.W_out;

/** The interpolation weight a of W_out for row r of L+2 rows (0 = embedding, L+1 = final). */
export function decoderAlpha(decoder: DecoderName, r: number, nLayers: number): number {
  const a = r / (nLayers + 1);
  if (decoder === 'linear') return a;
  if (decoder === 'quadratic') return a * a;
  return decoder === 'input' ? 0 : 1;
}

export interface DecodeBatch {
  /** [n, d_model] */
  states: Float32Array;
  /** [n]: 1 to apply the norm, 0 for states already normalised. */
  applyNorm: Uint8Array;
  /** [n]: the W_out weight a per state (used by linear/quadratic only). */
  alpha: Float32Array;
  /** [n]: index of the state each KL compares with (itself when none); default: itself. */
  pred?: Int32Array;
}

export interface DecodeResult {
  n: number;
  k: number;
  topP: Float32Array; // [n, k]
  topIds: BigInt64Array; // [n, k]
  entropy: Float32Array; // [n]
  kl: Float32Array; // [n]
  /** [n]: 1 where W_in won (maxprob on untied models only). */
  winnerIn?: Int32Array;
  residual: Float32Array; // [n, d]: state − W[top-1]
  residualNorm: Float32Array; // [n]
}

/**
 * The decode graph measures KL only between states of one group (decode-graph.ts: one
 * [R, R] GEMM per group of R slots). A state and its predecessor must share a group, so the
 * connected components of "n ↔ pred(n)" (for the lens: one per position, holding its rows)
 * are packed into groups of R = the largest component's size, largest first, a new group
 * when the next one does not fit (at most ≈ 2n slots; the lens's equal components fill their
 * groups exactly). `slot[j]` is the state at slot j (−1: padding), `pred` the predecessor's
 * index within the group. Cost: the group GEMMs do 2·slots·R·V flops, R/d of the decode
 * MatMul's — cheap for the lens (R = rows), not for a caller chaining every state together.
 */
export function groupByPredecessor(n: number, pred?: Int32Array): { groups: number; size: number; slot: Int32Array; pred: BigInt64Array } {
  if (!pred) return { groups: n, size: 1, slot: Int32Array.from({ length: n }, (_, i) => i), pred: new BigInt64Array(n) };
  const root = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (root[i] !== i) i = root[i] = root[root[i]];
    return i;
  };
  for (let i = 0; i < n; i++) {
    const p = pred[i];
    if (!Number.isInteger(p) || p < 0 || p >= n) throw new LenspressError('bad-batch', `pred[${i}] must be the index of a state in the batch (0..${n - 1}), got ${p}`);
    const a = find(i), b = find(p);
    if (a !== b) root[Math.max(a, b)] = Math.min(a, b);
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const members = byRoot.get(r);
    if (members) members.push(i);
    else byRoot.set(r, [i]);
  }
  const components = [...byRoot.values()].sort((x, y) => y.length - x.length || x[0] - y[0]);
  const size = components[0].length;
  // Next-fit decreasing: offset of each component's first slot.
  const start: number[] = [];
  let groups = 0, used = size;
  for (const c of components) {
    if (used + c.length > size) [groups, used] = [groups + 1, 0];
    start.push((groups - 1) * size + used);
    used += c.length;
  }
  const slot = new Int32Array(groups * size).fill(-1), local = BigInt64Array.from({ length: groups * size }, (_, j) => BigInt(j % size)), at = new Int32Array(n);
  components.forEach((c, ci) => c.forEach((i, j) => ((slot[start[ci] + j] = i), (at[i] = start[ci] + j))));
  for (let i = 0; i < n; i++) local[at[i]] = BigInt(at[pred[i]] % size);
  return { groups, size, slot, pred: local };
}

export class LensDecoder {
  /** How the graph combines matrices after resolving ties. */
  readonly matrices: DecodeMatrices;
  private session: Promise<InferenceSession> | undefined;

  constructor(
    readonly backend: Backend,
    readonly weights: DecoderWeights,
    readonly decoder: DecoderName,
    readonly norm: NormMode,
    readonly k: number,
  ) {
    if (!Number.isInteger(k) || k < 1 || k > weights.d_vocab) throw new LenspressError('bad-option', `k must be a whole number from 1 to ${weights.d_vocab}, got ${k}`);
    if (!DECODERS.includes(decoder)) throw new LenspressError('bad-option', `decoder must be one of ${DECODERS.join(', ')}, got "${decoder}"`);
    const { W_in, W_out } = weights;
    if (isTied(weights) || decoder === 'output') this.matrices = { kind: 'single', W: W_out };
    else if (decoder === 'input') this.matrices = { kind: 'single', W: W_in };
    else this.matrices = { kind: decoder === 'maxprob' ? 'max' : 'blend', W_in, W_out };
  }

  /** A key that is equal for decoders that build the same graph (tied models share one). */
  static key(weights: DecoderWeights, decoder: DecoderName, norm: NormMode, k: number): string {
    const kind = isTied(weights) || decoder === 'output' ? 'out' : decoder === 'input' ? 'in' : decoder === 'maxprob' ? 'max' : 'blend';
    return `${kind}:${norm}:${k}`;
  }

  private get sessionPromise(): Promise<InferenceSession> {
    if (!this.session) {
      const w = this.weights;
      this.session = createSession(this.backend, buildDecodeGraph({ d_model: w.d_model, d_vocab: w.d_vocab, matrices: this.matrices, gamma: w.gamma, eps: w.eps, norm: this.norm, k: this.k }));
      this.session.catch(() => (this.session = undefined)); // a failed create may succeed on retry
    }
    return this.session;
  }

  async decode(b: DecodeBatch): Promise<DecodeResult> {
    const n = b.applyNorm.length, d = this.weights.d_model;
    if (b.states.length !== n * d || b.alpha.length !== n || (b.pred && b.pred.length !== n)) {
      throw new LenspressError('bad-batch', `decode batch of ${n} states expects states of ${n}×${d}, alpha and pred of ${n}; got ${b.states.length}, ${b.alpha.length}, ${b.pred?.length ?? n}`);
    }
    const { Tensor } = this.backend.ort;
    const grid = groupByPredecessor(n, b.pred);
    const slots = grid.slot.length, k = this.k;
    // Laid out group by group; padding slots hold a zero state (never normalised) and are dropped.
    const states = new Float32Array(slots * d), applyNorm = new Uint8Array(slots), alpha = new Float32Array(slots);
    grid.slot.forEach((i, j) => {
      if (i < 0) return;
      states.set(b.states.subarray(i * d, (i + 1) * d), j * d);
      applyNorm[j] = b.applyNorm[i];
      alpha[j] = b.alpha[i];
    });
    const feeds: Record<string, InstanceType<typeof Tensor>> = {
      states: new Tensor('float32', states, [slots, d]),
      apply_norm: new Tensor('bool', applyNorm, [slots, 1]),
      pred: new Tensor('int64', grid.pred, [grid.groups, grid.size]),
    };
    if (this.matrices.kind === 'blend') feeds.alpha = new Tensor('float32', alpha, [slots, 1]);
    const out = await (await this.sessionPromise).run(feeds);
    // Back to the caller's order (a no-op copy when the batch was already grouped).
    const identity = slots === n && grid.slot.every((i, j) => i === j);
    const back = <T extends Float32Array | BigInt64Array | Int32Array>(t: T, width: number): T => {
      if (identity) return t;
      const r = new (t.constructor as new (len: number) => T)(n * width);
      const set = r.set.bind(r) as (src: T, offset: number) => void;
      grid.slot.forEach((i, j) => i >= 0 && set(t.subarray(j * width, (j + 1) * width) as T, i * width));
      return r;
    };
    return {
      n,
      k,
      topP: back(out.top_p.data as Float32Array, k),
      topIds: back(out.top_ids.data as BigInt64Array, k),
      entropy: back(out.entropy.data as Float32Array, 1),
      kl: back(out.kl.data as Float32Array, 1),
      winnerIn: this.matrices.kind === 'max' ? back(out.winner_in.data as Int32Array, 1) : undefined,
      residual: back(out.residual.data as Float32Array, d),
      residualNorm: back(out.residual_norm.data as Float32Array, 1),
    };
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await (await s).release();
  }
}
