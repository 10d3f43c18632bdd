/**
 * The graph of the first-order (Markov) probe (methods.md §7): for a batch of source tokens
 * x, Q(·|x) = softmax(N(W_E[x]·s) · W_Uᵀ) in one Gather + MatMul, where s is the model's
 * embedding scale and N is nothing or the final RMSNorm with its γ. Only what the probe
 * reads leaves the graph (top-k, log Q at chosen tokens, one rank), never [n, d_vocab].
 *
 * Inputs:  ids [n] int64 (source tokens x), at [n, m] int64 (tokens y at which to read log Q).
 * Outputs: top_q [n, k], top_ids [n, k] int64, logq_at [n, m],
 *          above0 [n]: how many y have Q(y|x) > Q(at[:,0]|x) (the rank of at[:,0] is above0 + 1).
 */
import { DataType, GraphBuilder, type OnnxModel } from './graph-builder.ts';
import { transpose } from './llama-graph.ts';

export type MarkovNorm = 'none' | 'model';

export interface MarkovGraphSpec {
  d_model: number;
  d_vocab: number;
  W_in: Float32Array;
  W_out: Float32Array;
  /** Multiplies W_in rows first, as the model does before block 0 (Gemma: √d_model). */
  embed_scale: number;
  gamma: Float32Array;
  eps: number;
  norm: MarkovNorm;
  k: number;
}

export function buildMarkovGraph(s: MarkovGraphSpec): OnnxModel {
  const g = new GraphBuilder('lenspress-markov');
  const ids = g.input('ids', DataType.INT64, ['n']);
  const at = g.input('at', DataType.INT64, ['n', 'm']);

  let x = g.op('Gather', [g.initializer('W_in', s.W_in, [s.d_vocab, s.d_model]), ids], { axis: { i: 0 } });
  if (s.embed_scale !== 1) x = g.op('Mul', [x, g.constFloat([s.embed_scale], [])]);
  if (s.norm === 'model') {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    x = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.constFloat([s.eps], [])])])]);
    x = g.op('Mul', [x, g.initializer('gamma', s.gamma, [s.d_model])]);
  }
  const logits = g.op('MatMul', [x, g.initializer('W_out_T', transpose(s.W_out, s.d_vocab, s.d_model), [s.d_model, s.d_vocab])]);
  const logq = g.op('LogSoftmax', [logits], { axis: { i: -1 } });
  g.node('GatherElements', [logq, at], { axis: { i: 1 } }, ['logq_at']);
  const first = g.op('Slice', ['logq_at', g.constInt64([0]), g.constInt64([1]), g.constInt64([1])]);
  // Counted in float: exact up to 2^24 tokens, far beyond any vocabulary.
  const above = g.op('Cast', [g.op('Greater', [logq, first])], { to: { i: DataType.FLOAT } });
  g.node('ReduceSum', [above, g.constInt64([-1])], { keepdims: { i: 0 } }, ['above0']);
  g.node('TopK', [g.op('Exp', [logq]), g.constInt64([s.k])], { axis: { i: -1 }, largest: { i: 1 }, sorted: { i: 1 } }, ['top_q', 'top_ids']);
  g.output('top_q', DataType.FLOAT, ['n', s.k]);
  g.output('top_ids', DataType.INT64, ['n', s.k]);
  g.output('logq_at', DataType.FLOAT, ['n', 'm']);
  g.output('above0', DataType.FLOAT, ['n']);
  return g.toModel(); // external data past 1.5 GiB (Gemma's 256000 × 2304 embeddings: 2.4 GB as float32)
}
