/**
 * The instrumented graph for the Llama family (Llama, Mistral, Gemma, Qwen2): the forward
 * pass as plain ONNX ops (opset 17), every requested hook point a graph output named as in
 * TransformerLens, every intervention slot a pair of graph inputs.
 *
 * Layout choices, each for a measured reason:
 * - weights are stored transposed ([in, out]) so each projection is one MatMul, no Transpose;
 * - RoPE is x·cos + (x·R)·sin with R a fixed ±1 pairing matrix: one small MatMul serves both
 *   the interleaved (llama2.c, GGUF) and the half (Hugging Face) layouts, and is exact;
 * - grouped-query attention repeats each key/value head for its *adjacent* query heads
 *   (Unsqueeze → Expand → Reshape); Tile would interleave them wrongly;
 * - a tensor that is two hooks (hook_embed = blocks.0.hook_resid_pre) gets an Identity per
 *   hook, because one ONNX value cannot carry two output names;
 * - nodes only a hook needs (per-head results, their norms) are added only when asked for;
 * - quantised projections (Q8_0/Q4_0 from a GGUF) are MatMulNBits nodes on the blocks as
 *   stored (matmul-nbits.ts); graphs whose weights pass ~1.5 GiB are built with external
 *   data (buildLlamaModel; GraphBuilder.toModel).
 */
import type { ModelConfig } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { blockHook, type BlockHook, validateHooks } from '../model/hooks.ts';
import { deltaInput, headKeepInput, type InterventionSite, keepInput } from '../model/interventions.ts';
import { DataType, type ExternalDataOptions, GraphBuilder, type OnnxModel } from './graph-builder.ts';
import { isQuantized, type Matrix } from '../model/quantized.ts';
import { nbitsLinear } from './matmul-nbits.ts';
import { ropeTables } from './rope-tables.ts';

export interface LlamaGraphOptions {
  /** Hook names to expose as outputs (see model/hooks.ts); `logits` is one of them. */
  hooks: readonly string[];
  /** Intervention slots ("layer.site" or "layer.heads", see interventionSlots) to give inputs. */
  interventionSlots?: readonly string[];
  /** Longest sequence the graph accepts (RoPE table rows); default min(n_ctx, 4096). */
  maxPositions?: number;
  /**
   * Adds a key/value cache for generation: inputs `past_key.{l}` / `past_value.{l}`
   * [1, n_kv_heads, past, d_head] (keys after RoPE), outputs `present_key.{l}` /
   * `present_value.{l}` with the new positions appended. The new tokens sit at positions
   * past..past+pos−1, and every hook covers only them (attn.hook_pattern: [H, pos, past+pos]).
   */
  kvCache?: boolean;
}

/** Transposes a row-major [rows, cols] matrix into [cols, rows]. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}


/** Rows of the RoPE tables a graph holds: enough for short prompts without a huge table. */
export const DEFAULT_ROPE_POSITIONS = 4096;

/** The graph as one protobuf (weights inside): models whose weights stay under 2 GiB. */
export function buildLlamaGraph(c: ModelConfig, w: ModelWeights, opts: LlamaGraphOptions): Uint8Array {
  return llamaGraph(c, w, opts).toBytes();
}

/** The graph with its weights as external data once they pass `ext.threshold` (default 1.5 GiB). */
export function buildLlamaModel(c: ModelConfig, w: ModelWeights, opts: LlamaGraphOptions, ext: ExternalDataOptions = {}): OnnxModel {
  return llamaGraph(c, w, opts).toModel(ext);
}

function llamaGraph(c: ModelConfig, w: ModelWeights, opts: LlamaGraphOptions): GraphBuilder {
  validateHooks(c, opts.hooks);
  const wanted = new Set(opts.hooks);
  const slots = new Set(opts.interventionSlots ?? []);
  const g = new GraphBuilder('lenspress-llama');
  const d = c.d_model, dh = c.d_head, H = c.n_heads, Hkv = c.n_kv_heads;

  const hook = (name: string, value: string, dims: (number | string)[]) => {
    if (!wanted.has(name)) return;
    if (!g.alias(value, name)) g.node('Identity', [value], {}, [name]);
    g.output(name, DataType.FLOAT, [1, ...dims]);
  };
  const weightT = (W: Float32Array, nOut: number, nIn: number, hint: string) => g.initializer(hint, transpose(W, nOut, nIn), [nIn, nOut]);
  const linear = (x: string, W: Matrix, nOut: number, nIn: number, hint: string, bias?: Float32Array) => {
    const y = isQuantized(W) ? nbitsLinear(g, W, hint)(x) : g.op('MatMul', [x, weightT(W, nOut, nIn, hint)]);
    return bias ? g.op('Add', [y, g.initializer(`${hint}.bias`, bias, [nOut])]) : y;
  };
  const eps = g.constFloat([c.norm_eps], []), two = g.constFloat([2], []);
  const rmsnorm = (x: string, gamma: Float32Array, hint: string) => {
    // Pow (not Mul(x, x)) is the pattern ONNX Runtime fuses into one SimplifiedLayerNormalization
    // kernel: 6 nodes → 1 per norm, 305 fewer nodes per step on a 30-layer model (docs/benchmarks.md).
    const ms = g.op('ReduceMean', [g.op('Pow', [x, two])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
    return g.op('Mul', [normed, g.initializer(hint, gamma, [d])]);
  };
  const activation = (x: string) => {
    if (c.act_fn === 'silu') return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    // GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); opset 17 has no Gelu op
    const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
    const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.constFloat([0.044715], [])])]), g.constFloat([Math.sqrt(2 / Math.PI)], [])]);
    return g.op('Mul', [g.op('Mul', [x, g.constFloat([0.5], [])]), g.op('Add', [g.op('Tanh', [inner]), g.constFloat([1], [])])]);
  };
  /** h' = keep ⊙ h + delta, when this (layer, site) has an intervention slot. */
  const intervene = (l: number, site: InterventionSite, h: string) => {
    if (!slots.has(`${l}.${site}`)) return h;
    const keep = g.input(keepInput(l, site), DataType.FLOAT, [1, 'pos', 1]);
    const delta = g.input(deltaInput(l, site), DataType.FLOAT, [1, 'pos', d]);
    return g.op('Add', [g.op('Mul', [h, keep]), delta]);
  };

  const ids = g.input('input_ids', DataType.INT64, [1, 'pos']);

  // Positions 0..T-1, the causal (and sliding-window) mask and the RoPE tables, in-graph.
  const dimOf = (x: string, axis: number) => g.op('Gather', [g.op('Shape', [x]), g.constInt64([axis], [])], { axis: { i: 0 } });
  const T = dimOf(ids, 1);
  const pastKey = (l: number) => `past_key.${l}`, pastValue = (l: number) => `past_value.${l}`;
  if (opts.kvCache) {
    for (let l = 0; l < c.n_layers; l++) {
      g.input(pastKey(l), DataType.FLOAT, [1, Hkv, 'past', dh]);
      g.input(pastValue(l), DataType.FLOAT, [1, Hkv, 'past', dh]);
    }
  }
  const past = opts.kvCache ? dimOf(pastKey(0), 2) : g.constInt64([0], []);
  const one = g.constInt64([1], []);
  const positions = g.op('Range', [past, g.op('Add', [past, T]), one]); // [pos]: the new tokens' positions
  const keyPositions = opts.kvCache ? g.op('Range', [g.constInt64([0], []), g.op('Add', [past, T]), one]) : positions; // [keys]
  const tableRows = opts.maxPositions ?? Math.min(c.n_ctx, DEFAULT_ROPE_POSITIONS);
  const tables = ropeTables(c, tableRows);
  const cos = g.op('Gather', [g.initializer('rope_cos', tables.cos, [tableRows, dh]), positions], { axis: { i: 0 } }); // [pos, d_head]
  const sin = g.op('Gather', [g.initializer('rope_sin', tables.sin, [tableRows, dh]), positions], { axis: { i: 0 } });
  const R = tables.R;
  const ropeR = g.initializer('rope_R', R, [dh, dh]);
  const rope = (x: string) => g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [g.op('MatMul', [x, ropeR]), sin])]);
  const qPos = g.op('Unsqueeze', [positions, g.constInt64([1])]), kPos = g.op('Unsqueeze', [keyPositions, g.constInt64([0])]);
  let hidden = g.op('Greater', [kPos, qPos]); // [pos, keys]: key in the future
  if (c.sliding_window) hidden = g.op('Or', [hidden, g.op('GreaterOrEqual', [g.op('Sub', [qPos, kPos]), g.constInt64([c.sliding_window], [])])]);
  const mask = g.op('Where', [hidden, g.constFloat([-Infinity], []), g.constFloat([0], [])]);
  const scale = g.constFloat([1 / Math.sqrt(dh)], []);

  const toHeads = (x: string, n: number) => g.op('Reshape', [x, g.constInt64([1, -1, n, dh])]); // [1, pos, n, d_head]
  const headsFirst = (x: string) => g.op('Transpose', [x], { perm: { ints: [0, 2, 1, 3] } }); // ⇄ [1, n, pos, ·]
  const repeatKv = (x: string) => {
    if (H === Hkv) return x;
    const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.constInt64([2])]), g.constInt64([1, 1, H / Hkv, 1, 1])]); // [1, Hkv, rep, pos, d_head]
    return g.op('Reshape', [expanded, g.constInt64([1, H, -1, dh])]);
  };

  // Token embedding (Gemma scales it by √d_model)
  let x = g.op('Gather', [g.initializer('W_E', w.W_E, [c.d_vocab, d]), ids], { axis: { i: 0 } }); // [1, pos, d_model]
  if (c.embed_scale !== 1) x = g.op('Mul', [x, g.constFloat([c.embed_scale], [])]);
  hook('hook_embed', x, ['pos', d]);

  for (let l = 0; l < c.n_layers; l++) {
    const b = w.blocks[l];
    const name = (h: BlockHook) => blockHook(l, h);
    x = intervene(l, 'resid_pre', x);
    hook(name('hook_resid_pre'), x, ['pos', d]);

    // Attention
    const xn = rmsnorm(x, b.ln1_w, `blocks.${l}.ln1.w`);
    const q = toHeads(linear(xn, b.W_Q, H * dh, d, `blocks.${l}.attn.W_Q`, b.b_Q), H);
    const k = toHeads(linear(xn, b.W_K, Hkv * dh, d, `blocks.${l}.attn.W_K`, b.b_K), Hkv);
    const v = toHeads(linear(xn, b.W_V, Hkv * dh, d, `blocks.${l}.attn.W_V`, b.b_V), Hkv);
    hook(name('attn.hook_q'), q, ['pos', H, dh]);
    hook(name('attn.hook_k'), k, ['pos', Hkv, dh]);
    hook(name('attn.hook_v'), v, ['pos', Hkv, dh]);
    let kAll = rope(headsFirst(k)), vAll = headsFirst(v); // [1, Hkv, pos, d_head]
    if (opts.kvCache) {
      // The Concat's own value is the output (no Identity copy of the whole cache per layer).
      kAll = g.node('Concat', [pastKey(l), kAll], { axis: { i: 2 } }, [`present_key.${l}`])[0]; // [1, Hkv, keys, d_head]
      vAll = g.node('Concat', [pastValue(l), vAll], { axis: { i: 2 } }, [`present_value.${l}`])[0];
      g.output(`present_key.${l}`, DataType.FLOAT, [1, Hkv, 'keys', dh]);
      g.output(`present_value.${l}`, DataType.FLOAT, [1, Hkv, 'keys', dh]);
    }
    const kT = g.op('Transpose', [repeatKv(kAll)], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [rope(headsFirst(q)), kT]), scale]), mask]); // [1, H, pos, keys]
    const pattern = g.op('Softmax', [scores], { axis: { i: -1 } });
    hook(name('attn.hook_pattern'), pattern, [H, 'pos', opts.kvCache ? 'keys' : 'pos']);
    let z = g.op('MatMul', [pattern, repeatKv(vAll)]); // [1, H, pos, d_head]
    if (slots.has(`${l}.heads`)) z = g.op('Mul', [z, g.input(headKeepInput(l), DataType.FLOAT, [1, H, 'pos', 1])]);
    const zPosFirst = headsFirst(z); // [1, pos, H, d_head]
    hook(name('attn.hook_z'), zPosFirst, ['pos', H, dh]);
    const W_O = b.W_O, hintO = `blocks.${l}.attn.W_O`;
    const W_O_T = isQuantized(W_O) ? null : weightT(W_O, d, H * dh, hintO); // [H*d_head, d_model]
    const quantO = isQuantized(W_O) ? nbitsLinear(g, W_O, hintO) : null;
    const zFlat = g.op('Reshape', [zPosFirst, g.constInt64([1, -1, H * dh])]);
    let attnOut = quantO ? quantO(zFlat) : g.op('MatMul', [zFlat, W_O_T!]);

    const perHead = ['attn.hook_result', 'attn.hook_result_norm', 'attn.hook_result_cos'] as const;
    if (perHead.some((h) => wanted.has(name(h)))) {
      // δ_att^(ℓ,h) = z_h · W_O[h-slice]: the same W_O, viewed as [H, d_head, d_model]
      let result: string; // [1, pos, H, d_model]
      if (quantO) {
        // Quantised W_O: head h's z in its own slot of an otherwise zero [H·d_head] row, so one
        // MatMulNBits over [pos·H, H·d_head] gives every head's z_h · W_O[h-slice] exactly.
        const eye = g.initializer('eye', Float32Array.from({ length: H * H }, (_, i) => (i % (H + 1) === 0 ? 1 : 0)), [H, H, 1]);
        const spread = g.op('Mul', [g.op('Unsqueeze', [zPosFirst, g.constInt64([3])]), eye]); // [1, pos, H, H, d_head]
        result = g.op('Reshape', [quantO(g.op('Reshape', [spread, g.constInt64([1, -1, H * dh])])), g.constInt64([1, -1, H, d])]);
      } else {
        const W_O_heads = g.op('Reshape', [W_O_T!, g.constInt64([H, dh, d])]);
        result = headsFirst(g.op('MatMul', [z, W_O_heads]));
      }
      hook(name('attn.hook_result'), result, ['pos', H, d]);
      const norm = g.op('ReduceL2', [result], { axes: { ints: [-1] }, keepdims: { i: 0 } }); // [1, pos, H]
      hook(name('attn.hook_result_norm'), norm, ['pos', H]);
      if (wanted.has(name('attn.hook_result_cos'))) {
        const total = g.op('Unsqueeze', [attnOut, g.constInt64([2])]); // [1, pos, 1, d_model]
        const dot = g.op('ReduceSum', [g.op('Mul', [result, total]), g.constInt64([-1])], { keepdims: { i: 0 } });
        const totalNorm = g.op('ReduceL2', [total], { axes: { ints: [-1] }, keepdims: { i: 0 } }); // [1, pos, 1]
        hook(name('attn.hook_result_cos'), g.op('Div', [dot, g.op('Add', [g.op('Mul', [norm, totalNorm]), g.constFloat([1e-12], [])])]), ['pos', H]);
      }
    }
    attnOut = intervene(l, 'attn_out', attnOut);
    hook(name('hook_attn_out'), attnOut, ['pos', d]);
    const mid = intervene(l, 'resid_mid', g.op('Add', [x, attnOut]));
    hook(name('hook_resid_mid'), mid, ['pos', d]);

    // Gated MLP
    const mn = rmsnorm(mid, b.ln2_w, `blocks.${l}.ln2.w`);
    const gate = linear(mn, b.W_gate, c.d_mlp, d, `blocks.${l}.mlp.W_gate`);
    const up = linear(mn, b.W_in, c.d_mlp, d, `blocks.${l}.mlp.W_in`);
    const mlpOut = intervene(l, 'mlp_out', linear(g.op('Mul', [activation(gate), up]), b.W_out, d, c.d_mlp, `blocks.${l}.mlp.W_out`));
    hook(name('hook_mlp_out'), mlpOut, ['pos', d]);
    x = intervene(l, 'resid_post', g.op('Add', [mid, mlpOut]));
    hook(name('hook_resid_post'), x, ['pos', d]);
  }

  const normed = rmsnorm(x, w.ln_final_w, 'ln_final.w');
  hook('ln_final.hook_normalized', normed, ['pos', d]);
  const logits = linear(normed, w.W_U, c.d_vocab, d, 'W_U');
  hook('logits', logits, ['pos', c.d_vocab]);
  return g;
}
