/**
 * llama.cpp as an independent implementation, through node-llama-cpp 3.21.1 (prebuilt, CPU).
 * F32 KV cache and flash attention off: with the defaults (F16 cache) log-probabilities
 * differ by ~0.02 from llama2.c on stories260K; with these settings by ~2e-5.
 */
import { getLlama, type Token } from 'node-llama-cpp';

/** Next-token probabilities after every position of `ids` (full vocabulary). */
export async function llamaCppProbabilities(modelPath: string, ids: readonly number[], threads = 1): Promise<Map<Token, number>[]> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: Math.max(64, ids.length + 8), flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', threads } as never);
  try {
    const sequence = context.getSequence();
    const out = await sequence.controlledEvaluate(ids.map((id) => [id as Token, { generateNext: { probabilities: true } }]));
    return ids.map((_, i) => out[i]!.next.probabilities!);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
