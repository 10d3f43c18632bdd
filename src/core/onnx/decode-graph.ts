/**
 * The decode graph of the logit lens: N hidden states → (optional norm) → one batched
 * MatMul with a decoder matrix → softmax → top-k and entropy, all inside ONNX Runtime, so
 * the full [N, d_vocab] distribution never crosses into JavaScript.
 *
 * Inputs:  states [N, d_model] float, apply_norm [N, 1] bool (false for rows that are
 *          already normalised, e.g. ln_final's output: never normalise twice).
 * Outputs: top_p [N, k], top_ids [N, k] int64, entropy [N] (nats).
 */
import { DataType, GraphBuilder } from './graph-builder.ts';
import { transpose } from './llama-graph.ts';

export type NormMode = 'none' | 'norm' | 'model';

export interface DecodeGraphSpec {
  d_model: number;
  d_vocab: number;
  /** Decoder matrix [d_vocab, d_model] (W_U for the classic logit lens). */
  W_dec: Float32Array;
  /** The final norm's scale γ, used when norm = 'model'. */
  gamma: Float32Array;
  eps: number;
  norm: NormMode;
  k: number;
}

export function buildDecodeGraph(s: DecodeGraphSpec): Uint8Array {
  const g = new GraphBuilder('lenspress-decode');
  const states = g.input('states', DataType.FLOAT, ['n', s.d_model]);
  const applyNorm = g.input('apply_norm', DataType.BOOL, ['n', 1]);

  let x = states;
  if (s.norm !== 'none') {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    let normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.constFloat([s.eps], [])])])]);
    if (s.norm === 'model') normed = g.op('Mul', [normed, g.initializer('gamma', s.gamma, [s.d_model])]);
    x = g.op('Where', [applyNorm, normed, x]);
  }
  const logits = g.op('MatMul', [x, g.initializer('W_dec_T', transpose(s.W_dec, s.d_vocab, s.d_model), [s.d_model, s.d_vocab])]);
  const logp = g.op('LogSoftmax', [logits], { axis: { i: -1 } });
  const p = g.op('Exp', [logp]);
  const negEntropy = g.op('ReduceSum', [g.op('Mul', [p, logp]), g.constInt64([-1])], { keepdims: { i: 0 } });
  g.node('Neg', [negEntropy], {}, ['entropy']);
  g.node('TopK', [p, g.constInt64([s.k])], { axis: { i: -1 }, largest: { i: 1 }, sorted: { i: 1 } }, ['top_p', 'top_ids']);
  g.output('entropy', DataType.FLOAT, ['n']);
  g.output('top_p', DataType.FLOAT, ['n', s.k]);
  g.output('top_ids', DataType.INT64, ['n', s.k]);
  return g.toBytes();
}
