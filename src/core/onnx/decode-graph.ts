/**
 * The decode graph of the logit lens (methods.md §2): N hidden states → (optional norm) →
 * one batched MatMul per decoder matrix → log-softmax → top-k, entropy, KL to a
 * predecessor, and one step of iterative subtraction — all inside ONNX Runtime, so the
 * full [N, d_vocab] distribution never crosses into JavaScript.
 *
 * Matrices (`DecodeMatrices.kind`):
 *   single  one matrix W (output W_U, input W_E, or either when tied);
 *   blend   (1 − a)·N(x)·W_inᵀ + a·N(x)·W_outᵀ with a per row (input `alpha`): the
 *           interpolated decoders, without ever materialising the interpolated matrix;
 *   max     decode through both; per row keep the distribution whose top probability is
 *           higher (ties go to W_out) and say which won.
 *
 * Inputs:  states [N, d] float; apply_norm [N, 1] bool (false for rows already normalised,
 *          e.g. ln_final's output: never normalise twice); pred [N] int64, the row whose
 *          distribution each row's KL is measured against (itself when it has none, giving 0);
 *          alpha [N, 1] float (blend only).
 * Outputs: top_p [N, k], top_ids [N, k] int64, entropy [N] (nats), kl [N] = KL(P_n ‖ P_pred(n))
 *          (nats), residual [N, d] = states − W[top-1] (the raw decoder row, interpolated for
 *          blend, the winner's for max), residual_norm [N] = ‖residual‖₂, and for max
 *          winner_in [N] int32 (1 where W_in won).
 */
import { DataType, GraphBuilder } from './graph-builder.ts';
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

export function buildDecodeGraph(s: DecodeGraphSpec): Uint8Array {
  const g = new GraphBuilder('lenspress-decode');
  const d = s.d_model, V = s.d_vocab;
  const states = g.input('states', DataType.FLOAT, ['n', d]);
  const applyNorm = g.input('apply_norm', DataType.BOOL, ['n', 1]);
  const pred = g.input('pred', DataType.INT64, ['n']);
  const m = s.matrices;
  const alpha = m.kind === 'blend' ? g.input('alpha', DataType.FLOAT, ['n', 1]) : '';

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
  const logSoftmax = (logits: string) => g.op('LogSoftmax', [logits], { axis: { i: -1 } });
  /** W[id] for each row: Gather(W_T, id, axis 1) is [d, N]; transposed to [N, d]. */
  const rowsOf = (WT: string, id: string) => g.op('Transpose', [g.op('Gather', [WT, id], { axis: { i: 1 } })], { perm: { ints: [1, 0] } });

  let logp: string;
  let pickRow: (id: string) => string;
  let winIn = '';
  if (m.kind === 'single') {
    const WT = matT('W_dec_T', m.W);
    logp = logSoftmax(g.op('MatMul', [x, WT]));
    pickRow = (id) => rowsOf(WT, id);
  } else {
    const inT = matT('W_in_T', m.W_in), outT = matT('W_out_T', m.W_out);
    const lIn = g.op('MatMul', [x, inT]), lOut = g.op('MatMul', [x, outT]);
    if (m.kind === 'blend') {
      const oneMinus = g.op('Sub', [g.constFloat([1], []), alpha]);
      logp = logSoftmax(g.op('Add', [g.op('Mul', [lIn, oneMinus]), g.op('Mul', [lOut, alpha])]));
      pickRow = (id) => g.op('Add', [g.op('Mul', [rowsOf(inT, id), oneMinus]), g.op('Mul', [rowsOf(outT, id), alpha])]);
    } else {
      const lpIn = logSoftmax(lIn), lpOut = logSoftmax(lOut);
      // The higher top probability is the higher max log-probability; a tie keeps W_out.
      const maxOf = (lp: string) => g.op('ReduceMax', [lp], { axes: { ints: [-1] }, keepdims: { i: 1 } });
      winIn = g.op('Greater', [maxOf(lpIn), maxOf(lpOut)]);
      logp = g.op('Where', [winIn, lpIn, lpOut]);
      pickRow = (id) => g.op('Where', [winIn, rowsOf(inT, id), rowsOf(outT, id)]);
    }
  }

  const p = g.op('Exp', [logp]);
  const minusOne = g.constInt64([-1]);
  g.node('Neg', [g.op('ReduceSum', [g.op('Mul', [p, logp]), minusOne], { keepdims: { i: 0 } })], {}, ['entropy']);
  const [, topIds] = g.node('TopK', [p, g.constInt64([s.k])], { axis: { i: -1 }, largest: { i: 1 }, sorted: { i: 1 } }, ['top_p', 'top_ids']);
  const predLogp = g.op('Gather', [logp, pred], { axis: { i: 0 } });
  g.node('ReduceSum', [g.op('Mul', [p, g.op('Sub', [logp, predLogp])]), minusOne], { keepdims: { i: 0 } }, ['kl']);

  // One step of iterative subtraction: e ← e − W[top-1] on the raw state.
  const top1 = g.op('Reshape', [g.op('Slice', [topIds, g.constInt64([0]), g.constInt64([1]), g.constInt64([1])]), minusOne]);
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
  return g.toBytes();
}
