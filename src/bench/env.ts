/**
 * What the rows share, built lazily and once per process: models, one HookedModel per
 * (model, thread count) so sessions are reused across rows, the F32 GGUF of the random
 * SmolLM2-135M-shaped model in a temporary folder, and node-llama-cpp contexts per thread
 * count. Before anything times llama.cpp, its log-probabilities are checked against ours.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LlamaContext } from 'node-llama-cpp';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { LoadedModel } from '../core/model/weights.ts';
import { openModel } from '../node/open-model.ts';
import { modelToF32Gguf } from './gguf-f32.ts';
import { llamaCppContext, llamaCppProbabilities, type LlamaCppRunner, logProbAgreement, openLlamaCpp } from './llama-cpp.ts';
import { benchIds, smolModel, threadedBackend } from './models.ts';

export type BenchModel = 'stories260K' | 'smol135M';

export interface BenchOptions {
  rounds: number;
  quick: boolean;
  /** Wall time each side of a round aims for (ms), so tiny runs are repeated enough. */
  targetMs: number;
  distDir: string;
  log: (message: string) => void;
}

/** Agreement of llama.cpp with our logits, printed before any llama.cpp timing. */
export const AGREEMENT_BOUND = 1e-3;

export class BenchEnv {
  private readonly hooked = new Map<string, Promise<HookedModel>>();
  private readonly contexts = new Map<number, Promise<LlamaContext>>();
  private stories: Promise<LoadedModel> | undefined;
  private gguf: Promise<{ dir: string; file: string }> | undefined;
  private runner: Promise<LlamaCppRunner> | undefined;
  private agreement: Promise<{ worst: number; compared: number; topAgree: number }> | undefined;

  constructor(readonly opts: BenchOptions) {}

  log(message: string): void {
    this.opts.log(message);
  }

  model(name: BenchModel): Promise<LoadedModel> {
    if (name === 'stories260K') return (this.stories ??= openModel('stories260K').then((m) => m.model));
    return Promise.resolve(this.smol());
  }

  smol(): LoadedModel {
    const t0 = performance.now();
    const m = smolModel();
    const ms = performance.now() - t0;
    if (ms > 50) this.log(`built the seeded random SmolLM2-135M-shaped model in ${(ms / 1000).toFixed(1)} s`);
    return m;
  }

  hookedModel(name: BenchModel, threads: number): Promise<HookedModel> {
    const key = `${name}/${threads}`;
    let h = this.hooked.get(key);
    if (!h) this.hooked.set(key, (h = this.model(name).then((m) => new HookedModel(m, threadedBackend(threads)))));
    return h;
  }

  ggufPath(): Promise<string> {
    this.gguf ??= (async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'lenspress-bench-gguf-'));
      const file = path.join(dir, 'smol135M-random-f32.gguf');
      const t0 = performance.now();
      writeFileSync(file, modelToF32Gguf(this.smol(), 'lenspress-bench SmolLM2-135M-shaped random (F32)'));
      this.log(`wrote the F32 GGUF (${file}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return { dir, file };
    })();
    return this.gguf.then((g) => g.file);
  }

  private llamaCpp(): Promise<LlamaCppRunner> {
    return (this.runner ??= this.ggufPath().then(openLlamaCpp));
  }

  /** A node-llama-cpp context with `threads` threads; the logits check runs before the first one is handed out. */
  async llamaContext(threads: number): Promise<LlamaContext> {
    let c = this.contexts.get(threads);
    if (!c) this.contexts.set(threads, (c = this.llamaCpp().then((r) => llamaCppContext(r, threads))));
    await this.checkAgreement();
    return c;
  }

  /** llama.cpp vs onnxruntime-node log-probabilities on the 64-token benchmark prompt; throws beyond 1e-3. */
  checkAgreement(): Promise<{ worst: number; compared: number; topAgree: number }> {
    this.agreement ??= (async () => {
      const runner = await this.llamaCpp();
      const ctx = await llamaCppContext(runner, 1);
      try {
        const c = this.smol().config;
        const ids = benchIds(64, c.d_vocab);
        const theirs = await llamaCppProbabilities(ctx.getSequence(), ids);
        const ours = (await (await this.hookedModel('smol135M', 1)).run(ids, ['logits'])).get('logits')!.data;
        const a = logProbAgreement(ours, c.d_vocab, theirs);
        this.log(`check: llama.cpp vs lenspress on the GGUF of the same weights: max |Δ log p| = ${a.worst.toExponential(2)} over ${a.compared} (position, token) pairs with p ≥ 1e-6; top-1 agrees at ${a.topAgree}/64 positions`);
        if (!(a.worst <= AGREEMENT_BOUND) || a.compared < 64) throw new Error(`llama.cpp and lenspress disagree (max |Δ log p| ${a.worst}, ${a.compared} pairs): the GGUF does not hold the same model, timings would compare different work`);
        return a;
      } finally {
        await ctx.dispose();
      }
    })();
    return this.agreement;
  }

  /** The llama.cpp check's result when some row ran it, else undefined. */
  async checkedAgreement(): Promise<{ worst: number; compared: number; topAgree: number } | undefined> {
    return this.agreement?.catch(() => undefined);
  }

  async dispose(): Promise<void> {
    for (const h of this.hooked.values()) await (await h).release().catch(() => undefined);
    for (const c of this.contexts.values()) await (await c).dispose().catch(() => undefined);
    if (this.runner) await (await this.runner).dispose().catch(() => undefined);
    if (this.gguf) await rm((await this.gguf).dir, { recursive: true, force: true });
  }
}
