/**
 * llama.cpp through node-llama-cpp 3.21.1 (prebuilt CPU build) as the speed reference.
 * Contexts use an F32 KV cache and no flash attention, the settings under which its
 * log-probabilities match ours (tests/helpers/llama-cpp.ts), so both sides do F32 work.
 * The thread count is pinned with {ideal, min}: a bare number is only a hint.
 */
import { getLlama, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';

export interface LlamaCppRunner {
  llama: Llama;
  model: LlamaModel;
  dispose(): Promise<void>;
}

export async function openLlamaCpp(modelPath: string): Promise<LlamaCppRunner> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath });
  return { llama, model, dispose: () => model.dispose() };
}

export async function llamaCppContext(runner: LlamaCppRunner, threads: number, contextSize = 256): Promise<LlamaContext> {
  return runner.model.createContext({
    contextSize,
    batchSize: contextSize,
    threads: { ideal: threads, min: threads },
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  } as never);
}

const toTokens = (ids: readonly number[]) => ids.map((id) => id as Token);

/** ms of a plain prefill (no sampling, llama.cpp's logits for the last position only) on an emptied sequence. */
export async function llamaCppPrefillMs(seq: LlamaContextSequence, ids: readonly number[]): Promise<number> {
  await seq.clearHistory();
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(toTokens(ids));
  return performance.now() - t0;
}

/**
 * ms per generated token: greedy generation after `prompt` (not timed), `n` tokens, timed
 * from the first sampled token to the n-th next one. EOS does not stop it (yieldEogToken).
 */
export async function llamaCppDecodeMs(seq: LlamaContextSequence, prompt: readonly number[], n: number): Promise<number> {
  await seq.clearHistory();
  const it = seq.evaluate(toTokens(prompt), { temperature: 0, yieldEogToken: true });
  try {
    await it.next(); // prefill + first token
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await it.next();
      if (r.done) throw new Error(`llama.cpp stopped generating after ${i} tokens`);
    }
    return (performance.now() - t0) / n;
  } finally {
    await it.return();
  }
}

/** Next-token probabilities after every position of `ids` (full vocabulary). */
export async function llamaCppProbabilities(seq: LlamaContextSequence, ids: readonly number[]): Promise<Map<Token, number>[]> {
  await seq.clearHistory();
  const out = await seq.controlledEvaluate(ids.map((id) => [id as Token, { generateNext: { probabilities: true } }]));
  return ids.map((_, i) => out[i]!.next.probabilities!);
}

/**
 * max |Δ log p| between our logits [T, V] and llama.cpp's probabilities, over every
 * (position, token) whose llama.cpp probability is ≥ 1e-6 (the log of smaller ones is noise).
 */
export function logProbAgreement(logits: Float32Array, V: number, theirs: readonly Map<Token, number>[]): { worst: number; compared: number; topAgree: number } {
  let worst = 0, compared = 0, topAgree = 0;
  theirs.forEach((probs, t) => {
    const row = logits.subarray(t * V, (t + 1) * V);
    let max = -Infinity, arg = 0;
    for (let i = 0; i < V; i++) if (row[i] > max) [max, arg] = [row[i], i];
    let z = 0;
    for (let i = 0; i < V; i++) z += Math.exp(row[i] - max);
    const logZ = max + Math.log(z);
    let theirTop = -1, theirMax = -1;
    for (const [id, p] of probs) {
      if (p > theirMax) [theirMax, theirTop] = [p, id];
      if (p < 1e-6) continue;
      worst = Math.max(worst, Math.abs(row[id] - logZ - Math.log(p)));
      compared++;
    }
    if (theirTop === arg) topAgree++;
  });
  return { worst, compared, topAgree };
}
