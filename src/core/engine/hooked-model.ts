/**
 * A model with hook points: runs the instrumented ONNX graph and returns the requested
 * hooks. One session per distinct hook set, built on first use and kept: a figure asks for
 * the same hooks on every re-run, and graph building + session creation is the slow part.
 */
import { LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import { hookShape, validateHooks } from '../model/hooks.ts';
import { buildLlamaModel, DEFAULT_ROPE_POSITIONS } from '../onnx/llama-graph.ts';
import type { ExternalDataOptions } from '../onnx/graph-builder.ts';
import { deltaInput, headKeep, headKeepInput, type Intervention, type InterventionSite, interventionSlots, keepInput, siteTensors, validateInterventions } from '../model/interventions.ts';
import { type Backend, createSession, type InferenceSession } from './runtime.ts';

export interface HookTensor {
  data: Float32Array;
  /** Without the batch axis, e.g. [pos, d_model]. */
  dims: number[];
}

export type HookMap = Map<string, HookTensor>;

/** Keys (after RoPE) and values of every layer for the positions seen so far: [n_kv_heads, length, d_head] each. */
export interface KvCache {
  length: number;
  keys: Float32Array[];
  values: Float32Array[];
}

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
    /** When graphs move their weights to external data (default: past 1.5 GiB; tests force it lower). */
    readonly externalData: ExternalDataOptions = {},
  ) {}

  get config() {
    return this.model.config;
  }

  private session(hooks: readonly string[], slots: readonly string[], T: number, kvCache = false): Promise<InferenceSession> {
    // Sequences past the default RoPE table get a graph with a table for the whole context.
    const maxPositions = T > Math.min(this.config.n_ctx, DEFAULT_ROPE_POSITIONS) ? this.config.n_ctx : undefined;
    const key = `${[...hooks].sort().join('|')}#${slots.join('|')}#${maxPositions ?? ''}#${kvCache}`;
    let s = this.sessions.get(key);
    if (!s) {
      const onnx = buildLlamaModel(this.model.config, this.model.weights, { hooks, interventionSlots: slots, maxPositions, kvCache }, this.externalData);
      s = createSession(this.backend, onnx);
      s.catch(() => this.sessions.delete(key)); // a failed create may succeed on retry
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Runs the prompt `ids` (with optional interventions) and returns exactly the hooks asked for. */
  async run(ids: readonly number[], hooks: readonly string[], interventions: readonly Intervention[] = []): Promise<HookMap> {
    validateHooks(this.config, hooks);
    validateTokenIds(this.model, ids);
    if (hooks.length === 0) throw new LenspressError('no-hooks', 'ask for at least one hook (for example logits)');
    const T = ids.length, c = this.config;
    validateInterventions(c, T, interventions);
    const slots = interventionSlots(interventions);
    const session = await this.session(hooks, slots, T);
    const { Tensor } = this.backend.ort;
    const feeds: Record<string, InstanceType<typeof Tensor>> = { input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]) };
    for (const slot of slots) {
      const [layerText, site] = slot.split('.');
      const layer = Number(layerText);
      if (site === 'heads') {
        feeds[headKeepInput(layer)] = new Tensor('float32', headKeep(c, T, interventions, layer), [1, c.n_heads, T, 1]);
      } else {
        const { keep, delta } = siteTensors(c, T, interventions, layer, site as InterventionSite);
        feeds[keepInput(layer, site as InterventionSite)] = new Tensor('float32', keep, [1, T, 1]);
        feeds[deltaInput(layer, site as InterventionSite)] = new Tensor('float32', delta, [1, T, c.d_model]);
      }
    }
    const out = await session.run(feeds, [...hooks]);
    const result: HookMap = new Map();
    for (const name of hooks) {
      const t = out[name];
      result.set(name, { data: t.data as Float32Array, dims: hookShape(this.config, name, ids.length) });
      // Tensors from a WebGPU session may live on the GPU; `data` above is the CPU copy.
    }
    return result;
  }

  /**
   * One generation step with the key/value cache: runs `ids` (the prompt, then one token at
   * a time) after the `cache` positions and returns the hooks of the new positions only,
   * plus the extended cache. With `cache` null this is the prefill.
   */
  async step(ids: readonly number[], cache: KvCache | null, hooks: readonly string[]): Promise<{ hooks: HookMap; cache: KvCache }> {
    validateHooks(this.config, hooks);
    const c = this.config, past = cache?.length ?? 0, T = ids.length;
    if (T === 0) throw new LenspressError('empty-prompt', 'the prompt is empty: give at least one token');
    validateTokenIds(this.model, [...new Array<number>(past).fill(0), ...ids]);
    const session = await this.session(hooks, [], past + T, true);
    const { Tensor } = this.backend.ort;
    const feeds: Record<string, InstanceType<typeof Tensor>> = { input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]) };
    const kvDims = [1, c.n_kv_heads, past, c.d_head];
    for (let l = 0; l < c.n_layers; l++) {
      feeds[`past_key.${l}`] = new Tensor('float32', cache?.keys[l] ?? new Float32Array(0), kvDims);
      feeds[`past_value.${l}`] = new Tensor('float32', cache?.values[l] ?? new Float32Array(0), kvDims);
    }
    const fetches = [...hooks];
    for (let l = 0; l < c.n_layers; l++) fetches.push(`present_key.${l}`, `present_value.${l}`);
    const out = await session.run(feeds, fetches);
    const result: HookMap = new Map();
    for (const name of hooks) result.set(name, { data: out[name].data as Float32Array, dims: hookShape(c, name, T, past + T) });
    const next: KvCache = { length: past + T, keys: [], values: [] };
    for (let l = 0; l < c.n_layers; l++) {
      next.keys.push(out[`present_key.${l}`].data as Float32Array);
      next.values.push(out[`present_value.${l}`].data as Float32Array);
    }
    return { hooks: result, cache: next };
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s).release()));
  }
}
