/**
 * `--profile`, second half: interleaved experiments that say what a missed goal is made of.
 * - hook sets: smaller hook sets against logits only (is it the per-head results?);
 * - preallocated outputs against fresh ones on one session (is it allocation?);
 * - many outputs against one packed output of the same bytes, in a graph that only copies
 *   (is it the per-output cost of the binding?) — at prefill and at decode-step sizes;
 * - the page's compute in Node with onnxruntime-web (wasm): a fresh session per Run, as the
 *   page does today (each Run starts a new Worker), against re-running a kept session.
 * These are diagnostics: none of them is the engine's code path except the hook sets.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { LensDecoder } from '../core/analysis/lens-decoder.ts';
import { lensHooks } from '../core/analysis/lens-states.ts';
import { modelDecoderWeights } from '../core/analysis/logit-lens.ts';
import { HookedModel } from '../core/engine/hooked-model.ts';
import { type Backend, type OrtModule, sessionOptions } from '../core/engine/runtime.ts';
import { allHookNames, hookShape } from '../core/model/hooks.ts';
import { DataType, GraphBuilder } from '../core/onnx/graph-builder.ts';
import { buildLlamaGraph } from '../core/onnx/llama-graph.ts';
import { openModel } from '../node/open-model.ts';
import type { BenchEnv } from './env.ts';
import { benchIds, threadedBackend } from './models.ts';
import type { RowResult } from './report.ts';
import { GAP_MS, PROMPT_TOKENS } from './rows-engine.ts';
import { lensBatch } from './rows-lens.ts';
import { interleave, median, summarize, timed } from './stats.ts';

const COMMAND = 'npm run bench -- --profile';

function row(label: string, r: { a: number[]; b: number[]; ratio: number[] }, sides: [string, string]): RowResult {
  return { id: 'profile', label, unit: '×', summary: summarize(r.ratio), details: { [`${sides[0]} ms`]: median(r.a), [`${sides[1]} ms`]: median(r.b) }, command: COMMAND };
}

const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** A graph that copies its input [total] into `sizes.length` outputs (Slice), or into one output (Identity). */
export function copyOutGraph(sizes: readonly number[], packed: boolean): Uint8Array {
  const g = new GraphBuilder('bench-outputs');
  const total = sizes.reduce((a, b) => a + b, 0);
  const x = g.input('x', DataType.FLOAT, [total]);
  if (packed) {
    g.node('Identity', [x], {}, ['out']);
    g.output('out', DataType.FLOAT, [total]);
    return g.toBytes();
  }
  let off = 0;
  sizes.forEach((n, i) => {
    g.node('Slice', [x, g.constInt64([off]), g.constInt64([off + n]), g.constInt64([0])], {}, [`o${i}`]);
    g.output(`o${i}`, DataType.FLOAT, [n]);
    off += n;
  });
  return g.toBytes();
}

async function outputsExperiment(env: BenchEnv, label: string, sizes: number[]): Promise<RowResult> {
  const b1 = threadedBackend(1);
  const many = await b1.ort.InferenceSession.create(copyOutGraph(sizes, false), sessionOptions(b1));
  const one = await b1.ort.InferenceSession.create(copyOutGraph(sizes, true), sessionOptions(b1));
  const total = sizes.reduce((a, b) => a + b, 0);
  const x = new b1.ort.Tensor('float32', new Float32Array(total).fill(1), [total]);
  env.log(`attribution: ${sizes.length} outputs vs 1 output, ${((4 * total) / 2 ** 20).toFixed(1)} MiB (${label})`);
  try {
    const r = await interleave(env.opts.rounds, timed(() => many.run({ x })), timed(() => one.run({ x })), total > 1e6 ? 3 : 50);
    return row(`copy-only graph, ${label}: ${sizes.length} outputs / 1 packed output, ${((4 * total) / 2 ** 20).toFixed(1)} MiB`, r, [`${sizes.length} outputs`, '1 output']);
  } finally {
    await many.release();
    await one.release();
  }
}

export async function hookAttribution(env: BenchEnv): Promise<RowResult[]> {
  const h = await env.hookedModel('smol135M', 1);
  const c = h.config, T = PROMPT_TOKENS, L = c.n_layers;
  const ids = benchIds(T, c.d_vocab, c.bos_token_id);
  const all = allHookNames(c);
  const perHead = /attn\.hook_result/;
  const sets: [string, string[]][] = [
    ['all hooks', all],
    ['all but the per-head results (attn.hook_result, _norm, _cos)', all.filter((n) => !perHead.test(n))],
    ["the logit lens's hooks + logits", [...lensHooks(L), 'logits']],
  ];
  const out: RowResult[] = [];
  for (const [what, hooks] of sets) {
    env.log(`attribution: ${what} (${hooks.length} outputs) / logits only`);
    const r = await interleave(env.opts.rounds, timed(() => h.run(ids, hooks)), timed(() => h.run(ids, ['logits'])), 1, GAP_MS);
    out.push(row(`smol135M, ${T} tokens, 1 thread: ${what} (${hooks.length} outputs) / logits only`, r, ['hooks', 'logits only']));
  }

  const b1 = threadedBackend(1);
  const { Tensor } = b1.ort;
  const session = await b1.ort.InferenceSession.create(buildLlamaGraph(c, h.model.weights, { hooks: all }), sessionOptions(b1));
  const feeds = { input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]) };
  const prealloc: Record<string, Tensor> = {};
  for (const name of all) {
    const dims = [1, ...hookShape(c, name, T)];
    prealloc[name] = new Tensor('float32', new Float32Array(numel(dims)), dims);
  }
  env.log('attribution: all hooks, preallocated outputs / fresh outputs (one session)');
  try {
    const r = await interleave(env.opts.rounds, timed(() => session.run(feeds, prealloc as InferenceSession.FetchesType)), timed(() => session.run(feeds)), 1, GAP_MS);
    out.push(row(`smol135M, ${T} tokens, 1 thread, all hooks: outputs preallocated / fresh (same session)`, r, ['preallocated', 'fresh']));
  } finally {
    await session.release();
  }

  out.push(await outputsExperiment(env, `the sizes of all hooks at ${T} tokens`, all.map((n) => numel(hookShape(c, n, T)))));
  const kv = Array.from({ length: 2 * L }, () => c.n_kv_heads * (T + 1) * c.d_head);
  out.push(await outputsExperiment(env, `the sizes of one decode step's hooks + KV cache at position ${T}`, [...all.map((n) => numel(hookShape(c, n, 1, T + 1))), ...kv]));
  out.push(await outputsExperiment(env, `one decode step, logits + KV cache`, [c.d_vocab, ...kv]));
  out.push(...(await pageComputeInNode(env)));
  return out;
}

/**
 * The page's compute stage, approximated in Node with onnxruntime-web (wasm, 1 thread) on
 * stories260K and the article's prompt: graph + session built fresh, then a first run and a
 * decode (what each Run does today, as each Run starts a new Worker), against the same work
 * on sessions kept from the previous Run.
 */
async function pageComputeInNode(env: BenchEnv): Promise<RowResult[]> {
  const ortWeb = (await import('onnxruntime-web')) as unknown as OrtModule & { env: { wasm: { numThreads: number } } };
  ortWeb.env.wasm.numThreads = 1;
  const backend: Backend = { ort: ortWeb, executionProviders: ['wasm'], label: 'onnxruntime-web (wasm, Node)' };
  const m = await openModel('stories260K');
  const ids = m.tokenizer.encode('Once upon a time, there was a little girl named Lily. She loved to', { addBos: true });
  const hooks = lensHooks(m.model.config.n_layers);
  const figure = async (hm: HookedModel, dec: LensDecoder) => dec.decode(await lensBatch(hm, ids, hooks));
  const kept = new HookedModel(m.model, backend);
  const keptDecoder = new LensDecoder(backend, modelDecoderWeights(kept), 'output', 'model', 5);
  const fresh = async () => {
    const hm = new HookedModel(m.model, backend);
    const dec = new LensDecoder(backend, modelDecoderWeights(hm), 'output', 'model', 5);
    try {
      await figure(hm, dec);
    } finally {
      await hm.release();
      await dec.release();
    }
  };
  env.log(`attribution: page compute in Node (onnxruntime-web wasm), ${ids.length} tokens: fresh sessions / kept sessions`);
  try {
    const r = await interleave(env.opts.rounds, timed(fresh), timed(() => figure(kept, keptDecoder)), 3);
    return [row(`stories260K, ${ids.length} tokens, onnxruntime-web wasm in Node: lens figure with fresh sessions / with kept sessions`, r, ['fresh sessions', 'kept sessions'])];
  } finally {
    await kept.release();
    await keptDecoder.release();
  }
}
