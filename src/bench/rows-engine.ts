/**
 * Engine rows: the cost of the hooks (all hooks vs logits only, same graph builder, same
 * runtime), prefill against llama.cpp, and one generated token against llama.cpp. Every
 * ratio is ours / theirs per round of one interleaved run (stats.ts).
 */
import { argmax } from '../core/engine/generate.ts';
import type { HookedModel, HookMap, KvCache } from '../core/engine/hooked-model.ts';
import { allHookNames } from '../core/model/hooks.ts';
import type { BenchEnv, BenchModel } from './env.ts';
import { llamaCppDecodeMs, llamaCppPrefillMs } from './llama-cpp.ts';
import { benchIds } from './models.ts';
import type { RowResult } from './report.ts';
import { interleave, median, repsFor, summarize, timed } from './stats.ts';

export const PROMPT_TOKENS = 64;
/** Idle ms before each timed call of a big model (see interleave). */
export const GAP_MS = 30;

const cmd = (id: string) => `npm run bench -- --only ${id}`;

export async function hooksOverhead(env: BenchEnv): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for (const name of ['stories260K', 'smol135M'] as BenchModel[]) {
    const h = await env.hookedModel(name, 1);
    const ids = benchIds(PROMPT_TOKENS, h.config.d_vocab, h.config.bos_token_id);
    const all = allHookNames(h.config);
    const runAll = () => h.run(ids, all), runLogits = () => h.run(ids, ['logits']);
    const reps = await repsFor(runAll, env.opts.targetMs);
    env.log(`hooks-overhead ${name}: ${all.length} hooks, ${reps} run(s) per side per round, 1 thread`);
    const r = await interleave(env.opts.rounds, timed(runAll), timed(runLogits), reps, name === 'smol135M' ? GAP_MS : 0);
    out.push({
      id: 'hooks-overhead',
      label: `${name}, ${PROMPT_TOKENS} tokens, 1 thread: all ${all.length} hooks / logits only`,
      unit: '×',
      summary: summarize(r.ratio),
      goal: { op: '<=', bound: 1.15, text: '≤ 1.15×' },
      details: { 'all hooks ms': median(r.a), 'logits only ms': median(r.b), 'runs/round': reps },
      command: cmd('hooks-overhead'),
    });
  }
  return out;
}

export async function prefill(env: BenchEnv): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for (const threads of [1, 2]) {
    const h = await env.hookedModel('smol135M', threads);
    const seq = (await env.llamaContext(threads)).getSequence();
    const ids = benchIds(PROMPT_TOKENS, h.config.d_vocab, h.config.bos_token_id);
    const all = allHookNames(h.config);
    env.log(`prefill: ${PROMPT_TOKENS} tokens, ${threads} thread(s)`);
    const r = await interleave(env.opts.rounds, timed(() => h.run(ids, all)), () => llamaCppPrefillMs(seq, ids), 1, GAP_MS);
    out.push({
      id: 'prefill',
      label: `SmolLM2-135M-shaped F32, ${PROMPT_TOKENS} tokens, ${threads} thread${threads > 1 ? 's' : ''}: all hooks / llama.cpp`,
      unit: '×',
      summary: summarize(r.ratio),
      goal: { op: '<=', bound: 1, text: '≤ 1.0×' },
      details: { 'lenspress ms': median(r.a), 'llama.cpp ms': median(r.b), 'lenspress tok/s': (1000 * PROMPT_TOKENS) / median(r.a), 'llama.cpp tok/s': (1000 * PROMPT_TOKENS) / median(r.b) },
      command: cmd('prefill'),
    });
  }
  return out;
}

/** ms per generated token: prefill `prompt` (not timed), then `n` greedy steps with the KV cache. */
export async function ourDecodeMs(h: HookedModel, prompt: readonly number[], n: number, hooks: readonly string[]): Promise<number> {
  const V = h.config.d_vocab;
  const lastToken = (logits: Float32Array) => argmax(logits.subarray(logits.length - V));
  let r: { hooks: HookMap; cache: KvCache } = await h.step(prompt, null, hooks);
  let next = lastToken(r.hooks.get('logits')!.data);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    r = await h.step([next], r.cache, hooks);
    next = lastToken(r.hooks.get('logits')!.data);
  }
  return (performance.now() - t0) / n;
}

export async function decodeToken(env: BenchEnv): Promise<RowResult[]> {
  const threads = 1;
  const n = env.opts.quick ? 8 : 16;
  const h = await env.hookedModel('smol135M', threads);
  const seq = (await env.llamaContext(threads)).getSequence();
  const prompt = benchIds(PROMPT_TOKENS, h.config.d_vocab, h.config.bos_token_id);
  const out: RowResult[] = [];
  for (const [what, hooks] of [['all hooks', allHookNames(h.config)], ['logits only', ['logits']]] as const) {
    env.log(`decode-token (${what}): ${n} tokens after a ${PROMPT_TOKENS}-token prompt, ${threads} thread`);
    const r = await interleave(env.opts.rounds, () => ourDecodeMs(h, prompt, n, hooks), () => llamaCppDecodeMs(seq, prompt, n), 1, GAP_MS);
    out.push({
      id: 'decode-token',
      label: `SmolLM2-135M-shaped F32, tokens ${PROMPT_TOKENS + 1}–${PROMPT_TOKENS + n}, ${threads} thread, KV cache: ${what} per step / llama.cpp`,
      unit: '×',
      summary: summarize(r.ratio),
      goal: what === 'all hooks' ? { op: '<=', bound: 1, text: '≤ 1.0×' } : undefined,
      details: { 'lenspress ms/token': median(r.a), 'llama.cpp ms/token': median(r.b) },
      command: cmd('decode-token'),
    });
  }
  return out;
}
