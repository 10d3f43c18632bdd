/**
 * A model with hook points: runs the instrumented ONNX graph and returns the requested
 * hooks. One session per distinct hook set, built on first use and kept: a figure asks for
 * the same hooks on every re-run, and graph building + session creation is the slow part.
 */
import { LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import { hookShape, validateHooks } from '../model/hooks.ts';
import { buildLlamaGraph } from '../onnx/llama-graph.ts';
import type { Backend, InferenceSession } from './runtime.ts';

export interface HookTensor {
  data: Float32Array;
  /** Without the batch axis, e.g. [pos, d_model]. */
  dims: number[];
}

export type HookMap = Map<string, HookTensor>;

export function validateTokenIds(model: LoadedModel, ids: readonly number[]): void {
  const { n_ctx, d_vocab } = model.config;
  if (ids.length === 0) throw new LenspressError('empty-prompt', 'the prompt is empty: give at least one token');
  if (ids.length > n_ctx) {
    throw new LenspressError('prompt-too-long', `the prompt has ${ids.length} tokens but this model's context is ${n_ctx}: shorten it`);
  }
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= d_vocab);
  if (bad !== undefined) throw new LenspressError('bad-token-id', `token id ${bad} is outside the vocabulary (0..${d_vocab - 1})`);
}

export class HookedModel {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();

  constructor(
    readonly model: LoadedModel,
    readonly backend: Backend,
  ) {}

  get config() {
    return this.model.config;
  }

  private session(hooks: readonly string[]): Promise<InferenceSession> {
    const key = [...hooks].sort().join('|');
    let s = this.sessions.get(key);
    if (!s) {
      const bytes = buildLlamaGraph(this.model.config, this.model.weights, { hooks });
      s = this.backend.ort.InferenceSession.create(bytes, { executionProviders: this.backend.executionProviders, graphOptimizationLevel: 'all' });
      s.catch(() => this.sessions.delete(key)); // a failed create may succeed on retry
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Runs the prompt `ids` and returns exactly the hooks asked for. */
  async run(ids: readonly number[], hooks: readonly string[]): Promise<HookMap> {
    validateHooks(this.config, hooks);
    validateTokenIds(this.model, ids);
    if (hooks.length === 0) throw new LenspressError('no-hooks', 'ask for at least one hook (for example logits)');
    const session = await this.session(hooks);
    const { Tensor } = this.backend.ort;
    const input = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const out = await session.run({ input_ids: input }, [...hooks]);
    const result: HookMap = new Map();
    for (const name of hooks) {
      const t = out[name];
      result.set(name, { data: t.data as Float32Array, dims: hookShape(this.config, name, ids.length) });
      // Tensors from a WebGPU session may live on the GPU; `data` above is the CPU copy.
    }
    return result;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s).release()));
  }
}
