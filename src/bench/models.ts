/**
 * The benchmark's models and backends: stories260K (the site's default model) and a seeded
 * random model with SmolLM2-135M's shape (HuggingFaceTB/SmolLM2-135M config.json: hidden
 * 576, 30 layers, 9 heads, 3 key/value heads, intermediate 1536, vocabulary 49152, tied
 * embeddings), Hugging Face's 'half' RoPE layout, no RoPE scaling.
 */
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { Backend } from '../core/engine/runtime.ts';
import type { ModelConfig } from '../core/model/config.ts';
import { randomModel, tinyConfig } from '../core/model/random.ts';
import type { LoadedModel } from '../core/model/weights.ts';
import { nodeBackend, openModel } from '../node/open-model.ts';

export const SMOL_SEED = 135;

export function smolConfig(): ModelConfig {
  return tinyConfig('llama', {
    d_model: 576,
    n_layers: 30,
    n_heads: 9,
    n_kv_heads: 3,
    d_head: 64,
    d_mlp: 1536,
    d_vocab: 49152,
    tied_embeddings: true,
    rope_scaling: null,
    rope_style: 'half',
    n_ctx: 2048,
  });
}

let smol: LoadedModel | undefined;
/** Built once per process (≈ 135 M normals). */
export function smolModel(): LoadedModel {
  return (smol ??= randomModel(smolConfig(), SMOL_SEED));
}

/** onnxruntime-node (CPU) with the session thread count pinned. */
export function threadedBackend(threads: number): Backend {
  return { ...nodeBackend(), threads, label: `onnxruntime-node (cpu, ${threads} thread${threads === 1 ? '' : 's'})` };
}

export async function storiesHooked(threads: number): Promise<HookedModel> {
  const m = await openModel('stories260K');
  return new HookedModel(m.model, threadedBackend(threads));
}

/** A fixed pseudo-random prompt of `n` ids in 3..vocab−1 (no BOS/EOS inside), the same every run. */
export function benchIds(n: number, vocab: number, bos = 1): number[] {
  const ids = [bos];
  let x = 12345;
  while (ids.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    ids.push(3 + (x % (vocab - 3)));
  }
  return ids;
}
