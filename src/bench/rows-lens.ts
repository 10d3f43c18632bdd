/**
 * lens-grid: the full logit-lens decode (every grid row × 64 positions × the whole
 * vocabulary: norm, MatMul, log-softmax, top-5, entropy, KL, one subtraction step — the
 * decode graph, onnx/decode-graph.ts) against onnxruntime-node doing only the MatMul of the
 * same shapes, [(L+2)·64, d] × [d, V], with a preallocated output (the runtime's peak for this
 * work). Both do the same 2·N·d·V multiply-adds, so time_matmul / time_lens is the fraction
 * of the MatMul's throughput the lens reaches. The states are the model's real ones.
 */
import { availableParallelism } from 'node:os';
import { LensDecoder, type DecodeBatch } from '../core/analysis/lens-decoder.ts';
import { isNormalisedRow, stateAt, stateRows } from '../core/analysis/lens-states.ts';
import { allHookNames } from '../core/model/hooks.ts';
import { modelDecoderWeights } from '../core/analysis/logit-lens.ts';
import type { HookedModel } from '../core/engine/hooked-model.ts';
import { sessionOptions } from '../core/engine/runtime.ts';
import { DataType, GraphBuilder } from '../core/onnx/graph-builder.ts';
import { transpose } from '../core/onnx/llama-graph.ts';
import type { BenchEnv } from './env.ts';
import { benchIds } from './models.ts';
import type { RowResult } from './report.ts';
import { GAP_MS, PROMPT_TOKENS } from './rows-engine.ts';
import { interleave, median, summarize, timed } from './stats.ts';

/** C = A·B with B [k, n] an initializer: the plain MatMul the lens is measured against. */
export function matmulGraph(B: Float32Array, k: number, n: number): Uint8Array {
  const g = new GraphBuilder('bench-matmul');
  const a = g.input('a', DataType.FLOAT, ['m', k]);
  g.node('MatMul', [a, g.initializer('b', B, [k, n])], {}, ['c']);
  g.output('c', DataType.FLOAT, ['m', n]);
  return g.toBytes();
}

/**
 * The grid's decode batch as computeLogitLens builds it: every 'block' row × T positions of
 * real states. Captured with all hooks (a superset of the lens's), reusing the session the
 * other rows built rather than compiling a third copy of the model.
 */
export async function lensBatch(h: HookedModel, ids: readonly number[], hooks: readonly string[] = allHookNames(h.config)): Promise<DecodeBatch> {
  const L = h.config.n_layers, T = ids.length, d = h.config.d_model;
  const captured = await h.run(ids, hooks);
  const get = (name: string) => captured.get(name)!.data;
  const rows = stateRows('block', L);
  const N = rows.length * T;
  const batch: DecodeBatch = { states: new Float32Array(N * d), applyNorm: new Uint8Array(N), alpha: new Float32Array(N).fill(1), pred: new Int32Array(N) };
  rows.forEach((r, i) => {
    batch.states.set(stateAt('block', r, L, get), i * T * d);
    batch.applyNorm.fill(isNormalisedRow('block', r, L) ? 0 : 1, i * T, (i + 1) * T);
    for (let t = 0; t < T; t++) batch.pred![i * T + t] = i === 0 ? t : (i - 1) * T + t;
  });
  return batch;
}

export async function lensGrid(env: BenchEnv): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for (const threads of [...new Set([1, Math.min(2, availableParallelism())])]) out.push(await lensGridAt(env, threads));
  return out;
}

async function lensGridAt(env: BenchEnv, threads: number): Promise<RowResult> {
  const h = await env.hookedModel('smol135M', threads);
  const c = h.config, T = PROMPT_TOKENS, d = c.d_model, V = c.d_vocab;
  const batch = await lensBatch(h, benchIds(T, V, c.bos_token_id));
  const N = batch.applyNorm.length, nRows = N / T;
  const decoder = new LensDecoder(h.backend, modelDecoderWeights(h), 'output', 'model', 5);
  const ort = h.backend.ort;
  const matmul = await ort.InferenceSession.create(matmulGraph(transpose(c.tied_embeddings ? h.model.weights.W_E : h.model.weights.W_U, V, d), d, V), sessionOptions(h.backend));
  const a = new ort.Tensor('float32', batch.states, [N, d]);
  const cOut = new ort.Tensor('float32', new Float32Array(N * V), [N, V]);
  const runMatmul = () => matmul.run({ a }, { c: cOut });
  env.log(`lens-grid: ${nRows} rows × ${T} positions = ${N} states, vocabulary ${V}, top-5, ${threads} thread(s)`);
  try {
    const r = await interleave(env.opts.rounds, timed(() => decoder.decode(batch)), timed(runMatmul), 1, GAP_MS);
    const flop = 2 * N * d * V;
    const share = r.a.map((lensMs, i) => (100 * r.b[i]) / lensMs);
    return {
      id: 'lens-grid',
      label: `SmolLM2-135M-shaped: [${N}, ${d}] states → ${V} vocabulary, top-5, ${threads} thread${threads > 1 ? 's' : ''}: lens throughput / MatMul throughput`,
      unit: '%',
      summary: summarize(share),
      goal: { op: '>=', bound: 60, text: '≥ 60 %' },
      details: { 'lens ms': median(r.a), 'MatMul ms': median(r.b), 'lens GFLOP/s': flop / 1e6 / median(r.a), 'MatMul GFLOP/s': flop / 1e6 / median(r.b) },
      command: 'npm run bench -- --only lens-grid',
    };
  } finally {
    await decoder.release();
    await matmul.release();
  }
}
