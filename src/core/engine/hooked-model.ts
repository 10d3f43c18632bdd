/**
 * A model with hook points: runs the instrumented ONNX graph and returns the requested
 * hooks. One session per distinct hook set, built on first use and kept: a figure asks for
 * the same hooks on every re-run, and graph building + session creation is the slow part.
 * But every session holds its own copy of the weights (ONNX Runtime does not share
 * initializers between sessions), so for a large model — a 7B model's 5 GB on a GPU — only
 * `maxSessions` are kept (default: 1 once the weights pass LARGE_SESSION_BYTES): before a new
 * session is created, sessions not running are released, least recently used first.
 */
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { estimateMemory } from '../model/memory.ts';
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

/** Weights (as sessions hold them) past which a HookedModel keeps one session at a time. */
export const LARGE_SESSION_BYTES = 2 ** 30;

/** Sequences past the default RoPE table get a graph with a table for the whole context. */
function ropePositions(T: number, c: ModelConfig): number | undefined {
  return T > Math.min(c.n_ctx, DEFAULT_ROPE_POSITIONS) ? c.n_ctx : undefined;
}

function sessionKey(hooks: readonly string[], slots: readonly string[], T: number, kvCache: boolean, c: ModelConfig): string {
  return `${[...hooks].sort().join('|')}#${slots.join('|')}#${ropePositions(T, c) ?? ''}#${kvCache}`;
}

/** 1 when a session's copy of the weights (estimated from the config) passes LARGE_SESSION_BYTES, else no limit. */
export function defaultMaxSessions(c: ModelConfig): number {
  return estimateMemory(c, 1, []).sessionBytes > LARGE_SESSION_BYTES ? 1 : Infinity;
}

export class HookedModel {
  /** In least-recently-used order (a Map keeps insertion order; a use re-inserts). */
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  /** Runs in flight per session key: those sessions are never released. */
  private readonly inUse = new Map<string, number>();
  readonly maxSessions: number;

  constructor(
    readonly model: LoadedModel,
    readonly backend: Backend,
    /** When graphs move their weights to external data (default: past 1.5 GiB; tests force it lower). */
    readonly externalData: ExternalDataOptions = {},
    opts: { maxSessions?: number } = {},
  ) {
    this.maxSessions = opts.maxSessions ?? defaultMaxSessions(model.config);
  }

  /** How many sessions are held now (each with a copy of the weights). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  get config() {
    return this.model.config;
  }

  /** The session under `key` (sessionKey of the same arguments), built on first use. */
  private async session(key: string, hooks: readonly string[], slots: readonly string[], T: number, kvCache: boolean): Promise<InferenceSession> {
    let s = this.sessions.get(key);
    if (s) {
      this.sessions.delete(key); // most recently used: to the end
      this.sessions.set(key, s);
      return s;
    }
    await this.makeRoom();
    const onnx = buildLlamaModel(this.model.config, this.model.weights, { hooks, interventionSlots: slots, maxPositions: ropePositions(T, this.config), kvCache }, this.externalData);
    s = createSession(this.backend, onnx);
    s.catch(() => this.sessions.delete(key)); // a failed create may succeed on retry
    this.sessions.set(key, s);
    return s;
  }

  /** Releases idle sessions, least recently used first, until a new one stays within maxSessions. */
  private async makeRoom(): Promise<void> {
    for (const [key, s] of [...this.sessions]) {
      if (this.sessions.size < this.maxSessions) return;
      if ((this.inUse.get(key) ?? 0) > 0) continue;
      this.sessions.delete(key);
      await (await s.catch(() => undefined))?.release();
    }
  }

  /** Runs `fn` on the session for these hooks, which is not released while it runs. */
  private async using<T>(hooks: readonly string[], slots: readonly string[], T: number, kvCache: boolean, fn: (s: InferenceSession) => Promise<T>): Promise<T> {
    const key = sessionKey(hooks, slots, T, kvCache, this.config);
    this.inUse.set(key, (this.inUse.get(key) ?? 0) + 1);
    try {
      return await fn(await this.session(key, hooks, slots, T, kvCache));
    } finally {
      this.inUse.set(key, this.inUse.get(key)! - 1);
    }
  }

  /** Runs the prompt `ids` (with optional interventions) and returns exactly the hooks asked for. */
  async run(ids: readonly number[], hooks: readonly string[], interventions: readonly Intervention[] = []): Promise<HookMap> {
    validateHooks(this.config, hooks);
    validateTokenIds(this.model, ids);
    if (hooks.length === 0) throw new LenspressError('no-hooks', 'ask for at least one hook (for example logits)');
    const T = ids.length, c = this.config;
    validateInterventions(c, T, interventions);
    const slots = interventionSlots(interventions);
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
    const out = await this.using(hooks, slots, T, false, (session) => session.run(feeds, [...hooks]));
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
    const { Tensor } = this.backend.ort;
    const feeds: Record<string, InstanceType<typeof Tensor>> = { input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]) };
    const kvDims = [1, c.n_kv_heads, past, c.d_head];
    for (let l = 0; l < c.n_layers; l++) {
      feeds[`past_key.${l}`] = new Tensor('float32', cache?.keys[l] ?? new Float32Array(0), kvDims);
      feeds[`past_value.${l}`] = new Tensor('float32', cache?.values[l] ?? new Float32Array(0), kvDims);
    }
    const fetches = [...hooks];
    for (let l = 0; l < c.n_layers; l++) fetches.push(`present_key.${l}`, `present_value.${l}`);
    const out = await this.using(hooks, [], past + T, true, (session) => session.run(feeds, fetches));
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
