/**
 * `--profile`: the per-op profiles behind docs/benchmarks.md's "what dominates" — the same
 * graphs the rows time (buildLlamaGraph / buildDecodeGraph with the engine's session
 * options), profiled one at a time. One variant is not the engine's: all hooks with every
 * output preallocated, to measure what preallocation would save.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { groupByPredecessor } from '../core/analysis/lens-decoder.ts';
import { modelDecoderWeights } from '../core/analysis/logit-lens.ts';
import { allHookNames, hookShape } from '../core/model/hooks.ts';
import type { LoadedModel } from '../core/model/weights.ts';
import { buildDecodeGraph } from '../core/onnx/decode-graph.ts';
import { buildLlamaGraph } from '../core/onnx/llama-graph.ts';
import type { BenchEnv, BenchModel } from './env.ts';
import { benchIds, threadedBackend } from './models.ts';
import { formatProfile, profileGraph, type ProfileSummary } from './profile.ts';
import { PROMPT_TOKENS } from './rows-engine.ts';
import { lensBatch } from './rows-lens.ts';

export async function runProfiles(env: BenchEnv, runs = 5): Promise<ProfileSummary[]> {
  const out: ProfileSummary[] = [];
  const note = (p: ProfileSummary) => {
    out.push(p);
    env.log(formatProfile(p));
  };
  const b1 = threadedBackend(1);
  const { Tensor } = b1.ort;
  for (const name of ['stories260K', 'smol135M'] as BenchModel[]) {
    const m: LoadedModel = await env.model(name);
    const c = m.config, T = PROMPT_TOKENS;
    const ids = new Tensor('int64', BigInt64Array.from(benchIds(T, c.d_vocab, c.bos_token_id).map(BigInt)), [1, T]);
    const all = allHookNames(c);
    note(await profileGraph(`${name} T=${T}, 1 thread, logits only`, b1, buildLlamaGraph(c, m.weights, { hooks: ['logits'] }), { input_ids: ids }, runs));
    const allBytes = buildLlamaGraph(c, m.weights, { hooks: all });
    note(await profileGraph(`${name} T=${T}, 1 thread, all ${all.length} hooks`, b1, allBytes, { input_ids: ids }, runs));
    const prealloc: Record<string, Tensor> = {};
    for (const h of all) {
      const dims = [1, ...hookShape(c, h, T)];
      prealloc[h] = new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    note(await profileGraph(`${name} T=${T}, 1 thread, all hooks, outputs preallocated (not the engine's path)`, b1, allBytes, { input_ids: ids }, runs, prealloc as InferenceSession.FetchesType));
    if (name !== 'smol135M') continue;
    // One decode step at position 64 with the KV cache.
    const kvFeeds: Record<string, Tensor> = { input_ids: new Tensor('int64', BigInt64Array.from([5n]), [1, 1]) };
    for (let l = 0; l < c.n_layers; l++) {
      for (const kind of ['past_key', 'past_value']) kvFeeds[`${kind}.${l}`] = new Tensor('float32', new Float32Array(c.n_kv_heads * T * c.d_head), [1, c.n_kv_heads, T, c.d_head]);
    }
    for (const [what, hooks] of [['logits only', ['logits']], ['all hooks', all]] as const) {
      note(await profileGraph(`${name} decode step at position ${T}, 1 thread, KV cache, ${what}`, b1, buildLlamaGraph(c, m.weights, { hooks, kvCache: true }), kvFeeds, runs * 4));
    }
    // The lens decode over the whole grid.
    const threads = Math.min(2, availableParallelism());
    const h = await env.hookedModel('smol135M', threads);
    const batch = await lensBatch(h, benchIds(T, c.d_vocab, c.bos_token_id));
    const N = batch.applyNorm.length, w = modelDecoderWeights(h);
    const { bytes } = buildDecodeGraph({ d_model: c.d_model, d_vocab: c.d_vocab, matrices: { kind: 'single', W: w.W_out }, gamma: w.gamma, eps: w.eps, norm: 'model', k: 5 });
    // The graph takes its states grouped (one group per position, as LensDecoder lays them out).
    const grid = groupByPredecessor(N, batch.pred);
    const states = new Float32Array(grid.slot.length * c.d_model), applyNorm = new Uint8Array(grid.slot.length);
    grid.slot.forEach((i, j) => {
      states.set(batch.states.subarray(i * c.d_model, (i + 1) * c.d_model), j * c.d_model);
      applyNorm[j] = batch.applyNorm[i];
    });
    const feeds = {
      states: new Tensor('float32', states, [grid.slot.length, c.d_model]),
      apply_norm: new Tensor('bool', applyNorm, [grid.slot.length, 1]),
      pred: new Tensor('int64', grid.pred, [grid.groups, grid.size]),
    };
    note(await profileGraph(`lens decode graph, ${N} states × ${c.d_vocab}, top-5, ${threads} threads`, threadedBackend(threads), bytes, feeds, 3));
  }
  return out;
}

