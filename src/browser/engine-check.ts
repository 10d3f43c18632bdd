/**
 * The engine check behind /diagnostics: runs every hook of a model in this browser on each
 * available execution provider and compares it with the plain-TypeScript reference forward
 * pass (also run here). Models: the default model, and seeded random checkpoints of each
 * architecture (generated in the page: no download). Tests read `window.__engineCheck`.
 */
import * as ort from 'onnxruntime-web';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { OrtModule } from '../core/engine/runtime.ts';
import { allHookNames } from '../core/model/hooks.ts';
import type { LoadedModel } from '../core/model/weights.ts';
import { referenceForward } from '../core/reference/forward.ts';
import { loadAsset } from './load-asset.ts';
import type { ModelAsset } from './protocol.ts';

export interface EngineCheckResult {
  model: string;
  provider: string;
  ok: boolean;
  /** Largest |onnx − reference| over every element of every hook. */
  maxAbsDiff: number;
  worstHook: string;
  hooks: number;
  /** max |Δ| per hook. */
  perHook: Record<string, number>;
  error?: string;
}

export async function loadAssetModel(asset: ModelAsset): Promise<LoadedModel> {
  return (await loadAsset(asset)).model;
}

export async function checkEngine(label: string, model: LoadedModel, providers: string[], tokens: number, log: (s: string) => void): Promise<EngineCheckResult[]> {
  const ids = [1, ...Array.from({ length: tokens - 1 }, (_, i) => (i * 97 + 5) % model.config.d_vocab)];
  log(`${label}: reference forward pass on ${tokens} tokens…`);
  const ref = referenceForward(model.config, model.weights, ids);
  const names = allHookNames(model.config);
  const results: EngineCheckResult[] = [];
  for (const provider of providers) {
    log(`${label}: running on ${provider}…`);
    const hooked = new HookedModel(model, { ort: ort as unknown as OrtModule, executionProviders: [provider], label: provider });
    try {
      const out = await hooked.run(ids, names);
      let worst = 0, worstHook = '';
      const perHook: Record<string, number> = {};
      for (const n of names) {
        const a = out.get(n)!.data, b = ref.hooks.get(n)!;
        let m = a.length === b.length ? 0 : Infinity;
        for (let i = 0; i < a.length && m !== Infinity; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        perHook[n] = m;
        if (!(m <= worst)) {
          worst = m;
          worstHook = n;
        }
      }
      results.push({ model: label, provider, ok: worst <= 1e-4, maxAbsDiff: worst, worstHook, hooks: names.length, perHook });
    } catch (e) {
      results.push({ model: label, provider, ok: false, maxAbsDiff: NaN, worstHook: '', hooks: 0, perHook: {}, error: String((e as Error).message ?? e) });
    } finally {
      await hooked.release();
    }
  }
  return results;
}
