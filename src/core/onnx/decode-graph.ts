/**
 * The decode graph of the logit lens (methods.md §2): N hidden states → (optional norm) →
 * one batched MatMul per decoder matrix → top-k, entropy, KL to a predecessor, and one step
 * of iterative subtraction — all inside ONNX Runtime, so the full [N, d_vocab] distribution
 * never crosses into JavaScript.
 *
 * Matrices (`DecodeMatrices.kind`):
 *   single  one matrix W (output W_U, input W_E, or either when tied);
 *   blend   (1 − a)·N(x)·W_inᵀ + a·N(x)·W_outᵀ with a per row (input `alpha`), computed as
 *           one MatMul [(1 − a)·x, a·x] × [W_inᵀ; W_outᵀ]: the interpolated matrix is never
 *           materialised, and neither are the two logit tensors;
 *   max     decode through both; per row keep the distribution whose top probability is
 *           higher (ties go to W_out) and say which won.
 *
 * Inputs:  states [N, d] float, grouped: N = G·R, states g·R .. g·R + R − 1 form group g;
 *          apply_norm [N, 1] bool (false for rows already normalised, e.g. ln_final's output:
 *          never normalise twice); pred [G, R] int64, for each state the index *within its
 *          group* of the state its KL is measured against (itself when it has none, giving 0);
 *          alpha [N, 1] float (blend only).
 * Outputs: top_p [N, k], top_ids [N, k] int64, entropy [N] (nats), kl [N] = KL(P_n ‖ P_pred(n))
 *          (nats), residual [N, d] = states − W[top-1] (the raw decoder row, interpolated for
 *          blend, the winner's for max), residual_norm [N] = ‖residual‖₂, and for max
 *          winner_in [N] int32 (1 where W_in won).
 *
 * Why this shape (docs/benchmarks.md, lens-grid): everything after the MatMul is a pass over
 * an [N, V] tensor (403 MB for the 135M-shaped grid), so the graph makes as few as it can:
 *   - TopK runs on the logits (same order as on probabilities); l = logits − top logit, so
 *     every l ≤ 0 and the sums below stay small (unshifted, float32 sums of p·logit over the
 *     vocabulary were off by 1e-4 nats on the random test checkpoint's large logits);
 *   - p = Softmax(max(l, −c)): the clamp keeps every probability a normal float. Without it,
 *     tokens 88+ nats below the top give denormal p, and every op touching them ran 4–8×
 *     slower on x86 (the old graph's Exp and Mul); the mass this moves is ≤ V²·e^−86;
 *   - log Z (of l) comes from the top token: lse = −log p_top, no extra pass;
 *   - entropy and KL need Σ_v p_n[v]·l_j[v] for j = n and j = pred(n). With predecessors in
 *     the same group, one batched GEMM per group, P_g·L_gᵀ [R, R] (2·N·R·V flops, ≈ R/d of
 *     the decode MatMul), gives all of them (the shift of l_j cancels against lse_j):
 *       H_n  = lse_n − Σ p_n·l_n                                   (two terms ≥ 0)
 *       KL_n = (Σ p_n·l_n − lse_n) − (Σ p_n·l_pred − lse_pred)     (exactly 0 when pred = n).
 * So the passes are MatMul, TopK, Sub, Clip, Softmax and the group GEMM, instead of ten
 * (MatMul, LogSoftmax, Exp, two Mul, two ReduceSum, TopK, Gather, Sub) over denormal-laden
 * tensors.
 */
import { DataType, GraphBuilder, type OnnxModel } from './graph-builder.ts';
import { transpose } from './llama-graph.ts';

export type NormMode = 'none' | 'norm' | 'model';

export type DecodeMatrices =
  | { kind: 'single'; W: Float32Array }
  | { kind: 'blend' | 'max'; W_in: Float32Array; W_out: Float32Array };

export interface DecodeGraphSpec {
  d_model: number;
  d_vocab: number;
  /** Decoder matrices, each [d_vocab, d_model] row-major (the `Linear`/embedding layout). */
  matrices: DecodeMatrices;
  /** The final norm's scale γ as multiplied (Gemma's 1 + γ already folded in), used when norm = 'model'. */
  gamma: Float32Array;
  eps: number;
  norm: NormMode;
  k: number;
}

/** Shifted logits below −c are raised to −c before the softmax: e^−c / V stays above FLT_MIN (1.18e-38). */
export const softmaxClampDepth = (V: number): number => 86 - Math.log(V);

export function buildDecodeGraph(s: DecodeGraphSpec): OnnxModel {
  const g = new GraphBuilder('lenspress-decode');
  const d = s.d_model, V = s.d_vocab;
  const states = g.input('states', DataType.FLOAT, ['n', d]);
  const applyNorm = g.input('apply_norm', DataType.BOOL, ['n', 1]);
  const pred = g.input('pred', DataType.INT64, ['groups', 'group_size']);
  const m = s.matrices;
  const alpha = m.kind === 'blend' ? g.input('alpha', DataType.FLOAT, ['n', 1]) : '';
  const minusOne = g.constInt64([-1]);
  const slice01 = (t: string) => g.op('Slice', [t, g.constInt64([0]), g.constInt64([1]), g.constInt64([1])]); // [N, 1]: column 0

  let x = states;
  if (s.norm !== 'none') {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    let normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.constFloat([s.eps], [])])])]);
    if (s.norm === 'model') normed = g.op('Mul', [normed, g.initializer('gamma', s.gamma, [d])]);
    x = g.op('Where', [applyNorm, normed, x]);
  }
  // Matrices are stored transposed [d, V] for the MatMul; decoder rows are gathered from the
  // same initialiser (axis 1), so each matrix is held once.
  const matT = (name: string, W: Float32Array) => g.initializer(name, transpose(W, V, d), [d, V]);
  /** W[id] for each row: Gather(W_T, id, axis 1) is [d, N]; transposed to [N, d]. */
  const rowsOf = (WT: string, id: string) => g.op('Transpose', [g.op('Gather', [WT, id], { axis: { i: 1 } })], { perm: { ints: [1, 0] } });
  const clampFloor = g.constFloat([-softmaxClampDepth(V)], []);

  /** Top-k, probabilities and log Z of one logit tensor, in the passes described above. */
  const distribution = (logits: string) => {
    const [topL, topIds] = g.node('TopK', [logits, g.constInt64([s.k])], { axis: { i: -1 }, largest: { i: 1 }, sorted: { i: 1 } }, 2);
    const l = g.op('Sub', [logits, slice01(topL)]); // shifted: top logit 0, so sums of p·l stay small
    const p = g.op('Softmax', [g.op('Clip', [l, clampFloor])], { axis: { i: -1 } });
    const topP = g.op('GatherElements', [p, topIds], { axis: { i: 1 } });
    const lse = g.op('Neg', [g.op('Log', [slice01(topP)])]); // [N, 1]: log Σ e^l of the shifted logits
    return { l, p, topP, topIds, lse };
  };

  let dist: ReturnType<typeof distribution>;
  let pickRow: (id: string) => string;
  let winIn = '';
  if (m.kind === 'single') {
    const WT = matT('W_dec_T', m.W);
    dist = distribution(g.op('MatMul', [x, WT]));
    pickRow = (id) => rowsOf(WT, id);
  } else if (m.kind === 'blend') {
    // [W_inᵀ; W_outᵀ] is [2d, V]; the two weights multiply the (small) states, not the logits.
    const catT = new Float32Array(2 * d * V);
    catT.set(transpose(m.W_in, V, d), 0);
    catT.set(transpose(m.W_out, V, d), d * V);
    const WT = g.initializer('W_in_out_T', catT, [2 * d, V]);
    const oneMinus = g.op('Sub', [g.constFloat([1], []), alpha]);
    dist = distribution(g.op('MatMul', [g.op('Concat', [g.op('Mul', [x, oneMinus]), g.op('Mul', [x, alpha])], { axis: { i: 1 } }), WT]));
    pickRow = (id) => {
      const both = g.op('Transpose', [g.op('Reshape', [g.op('Gather', [WT, id], { axis: { i: 1 } }), g.constInt64([2, d, -1])])], { perm: { ints: [2, 0, 1] } }); // [N, 2, d]
      const weights = g.op('Unsqueeze', [g.op('Concat', [oneMinus, alpha], { axis: { i: 1 } }), g.constInt64([2])]); // [N, 2, 1]
      return g.op('ReduceSum', [g.op('Mul', [both, weights]), g.constInt64([1])], { keepdims: { i: 0 } });
    };
  } else {
    const inT = matT('W_in_T', m.W_in), outT = matT('W_out_T', m.W_out);
    const a = distribution(g.op('MatMul', [x, inT])), b = distribution(g.op('MatMul', [x, outT]));
    // The higher top probability wins; a tie keeps W_out.
    winIn = g.op('Greater', [slice01(a.topP), slice01(b.topP)]); // [N, 1]
    const pick = (u: string, v: string) => g.op('Where', [winIn, u, v]);
    dist = { l: pick(a.l, b.l), p: pick(a.p, b.p), topP: pick(a.topP, b.topP), topIds: pick(a.topIds, b.topIds), lse: pick(a.lse, b.lse) };
    pickRow = (id) => pick(rowsOf(inT, id), rowsOf(outT, id));
  }
  g.node('Identity', [dist.topP], {}, ['top_p']);
  g.node('Identity', [dist.topIds], {}, ['top_ids']);

  // Σ_v p_i[v]·l_j[v] for every pair (i, j) of a group: [G, R, R].
  const groupShape = g.op('Concat', [g.op('Shape', [pred]), g.constInt64([V])], { axis: { i: 0 } }); // [G, R, V]
  const grouped = (t: string) => g.op('Reshape', [t, groupShape]);
  const cross = g.op('MatMul', [grouped(dist.p), g.op('Transpose', [grouped(dist.l)], { perm: { ints: [0, 2, 1] } })]);
  const R = g.op('Gather', [g.op('Shape', [pred]), g.constInt64([1], [])], { axis: { i: 0 } });
  const self = g.op('Expand', [g.op('Range', [g.constInt64([0], []), R, g.constInt64([1], [])]), g.op('Shape', [pred])]); // [G, R]: i
  const at = (idx: string) => g.op('Reshape', [g.op('GatherElements', [cross, g.op('Unsqueeze', [idx, g.constInt64([2])])], { axis: { i: 2 } }), minusOne]); // [N]
  const own = at(self), withPred = at(pred);
  const lse = g.op('Reshape', [dist.lse, minusOne]);
  const lsePred = g.op('Reshape', [g.op('GatherElements', [g.op('Reshape', [lse, g.op('Shape', [pred])]), pred], { axis: { i: 1 } }), minusOne]);
  g.node('Sub', [lse, own], {}, ['entropy']);
  g.node('Sub', [g.op('Sub', [own, lse]), g.op('Sub', [withPred, lsePred])], {}, ['kl']);

  // One step of iterative subtraction: e ← e − W[top-1] on the raw state.
  const top1 = g.op('Reshape', [slice01(dist.topIds), minusOne]);
  const residual = g.node('Sub', [states, pickRow(top1)], {}, ['residual'])[0];
  g.node('Sqrt', [g.op('ReduceSum', [g.op('Mul', [residual, residual]), minusOne], { keepdims: { i: 0 } })], {}, ['residual_norm']);

  g.output('top_p', DataType.FLOAT, ['n', s.k]);
  g.output('top_ids', DataType.INT64, ['n', s.k]);
  g.output('entropy', DataType.FLOAT, ['n']);
  g.output('kl', DataType.FLOAT, ['n']);
  g.output('residual', DataType.FLOAT, ['n', d]);
  g.output('residual_norm', DataType.FLOAT, ['n']);
  if (winIn) {
    g.node('Cast', [g.op('Reshape', [winIn, minusOne])], { to: { i: DataType.INT32 } }, ['winner_in']);
    g.output('winner_in', DataType.INT32, ['n']);
  }
  return g.toModel(); // external data past 1.5 GiB (Gemma's 256000 × 2304 unembedding: 2.4 GB as float32)
}
