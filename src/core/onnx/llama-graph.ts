/**
 * The instrumented Llama graph: the forward pass as plain ONNX ops (opset 17), with every
 * requested hook point exposed as a graph output named as in TransformerLens.
 *
 * Layout choices, each for a measured reason:
 * - weights are stored transposed ([in, out]) so each projection is one MatMul, no Transpose;
 * - RoPE is x·cos + (x·R)·sin with R a fixed ±1 pairing matrix: one small MatMul serves both
 *   the interleaved (llama2.c, GGUF) and the half (Hugging Face) layouts, and is exact;
 * - grouped-query attention repeats each key/value head for its *adjacent* query heads
 *   (Unsqueeze → Expand → Reshape); Tile would interleave them wrongly;
 * - a tensor that is two hooks (hook_embed = blocks.0.hook_resid_pre) gets an Identity per
 *   hook, because one ONNX value cannot carry two output names.
 */
import type { ModelConfig } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { blockHook, validateHooks } from '../model/hooks.ts';
import { DataType, GraphBuilder } from './graph-builder.ts';

export interface LlamaGraphOptions {
  /** Hook names to expose as outputs (see model/hooks.ts); `logits` is one of them. */
  hooks: readonly string[];
}

/** Transposes a row-major [rows, cols] matrix into [cols, rows]. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** inv_freq repeated to d_head entries and the pairing matrix R, for `rope_style`. */
function ropeConstants(c: ModelConfig): { invFreq: Float32Array; R: Float32Array } {
  const dh = c.d_head, half = dh / 2;
  const invFreq = new Float32Array(dh);
  const R = new Float32Array(dh * dh); // [d_head, d_head], (x·R)[a] = -x[b], (x·R)[b] = x[a]
  for (let i = 0; i < half; i++) {
    const f = 1 / Math.pow(c.rope_theta, (2 * i) / dh);
    const [a, b] = c.rope_style === 'interleaved' ? [2 * i, 2 * i + 1] : [i, i + half];
    invFreq[a] = invFreq[b] = f;
    R[b * dh + a] = -1;
    R[a * dh + b] = 1;
  }
  return { invFreq, R };
}

export function buildLlamaGraph(c: ModelConfig, w: ModelWeights, opts: LlamaGraphOptions): Uint8Array {
  validateHooks(c, opts.hooks);
  const wanted = new Set(opts.hooks);
  const g = new GraphBuilder('lenspress-llama');
  const d = c.d_model, dh = c.d_head, H = c.n_heads, Hkv = c.n_kv_heads;

  const hook = (name: string, value: string, dims: (number | string)[]) => {
    if (!wanted.has(name)) return;
    g.node('Identity', [value], {}, [name]);
    g.output(name, DataType.FLOAT, [1, ...dims]);
  };
  const linear = (x: string, W: Float32Array, nOut: number, nIn: number, hint: string) =>
    g.op('MatMul', [x, g.initializer(hint, transpose(W, nOut, nIn), [nIn, nOut])]);
  const eps = g.constFloat([c.norm_eps], []);
  const rmsnorm = (x: string, gamma: Float32Array, hint: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
    return g.op('Mul', [normed, g.initializer(hint, gamma, [d])]);
  };

  const ids = g.input('input_ids', DataType.INT64, [1, 'pos']);

  // Positions 0..T-1, the causal mask and the RoPE tables, computed in-graph for any length.
  const T = g.op('Gather', [g.op('Shape', [ids]), g.constInt64([1], [])], { axis: { i: 0 } });
  const positions = g.op('Range', [g.constInt64([0], []), T, g.constInt64([1], [])]); // [pos]
  const posF = g.op('Cast', [positions], { to: { i: DataType.FLOAT } });
  const { invFreq, R } = ropeConstants(c);
  const angles = g.op('Mul', [g.op('Unsqueeze', [posF, g.constInt64([1])]), g.initializer('rope_inv_freq', invFreq, [dh])]); // [pos, d_head]
  const cos = g.op('Cos', [angles]), sin = g.op('Sin', [angles]);
  const ropeR = g.initializer('rope_R', R, [dh, dh]);
  const rope = (x: string) => g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [g.op('MatMul', [x, ropeR]), sin])]);
  const future = g.op('Greater', [g.op('Unsqueeze', [positions, g.constInt64([0])]), g.op('Unsqueeze', [positions, g.constInt64([1])])]); // [pos(q), pos(k)]: k > q
  const mask = g.op('Where', [future, g.constFloat([-Infinity], []), g.constFloat([0], [])]);
  const scale = g.constFloat([1 / Math.sqrt(dh)], []);

  const headsShape = (n: number) => g.constInt64([1, -1, n, dh]);
  const splitHeads = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, headsShape(n)])], { perm: { ints: [0, 2, 1, 3] } }); // [1, n, pos, d_head]
  const repeatKv = (x: string) => {
    if (H === Hkv) return x;
    const rep = H / Hkv;
    const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.constInt64([2])]), g.constInt64([1, 1, rep, 1, 1])]); // [1, Hkv, rep, pos, d_head]
    return g.op('Reshape', [expanded, g.constInt64([1, H, -1, dh])]);
  };

  // Token embedding
  let x = g.op('Gather', [g.initializer('W_E', w.W_E, [c.d_vocab, d]), ids], { axis: { i: 0 } }); // [1, pos, d_model]
  hook('hook_embed', x, ['pos', d]);

  for (let l = 0; l < c.n_layers; l++) {
    const b = w.blocks[l];
    const name = (h: Parameters<typeof blockHook>[1]) => blockHook(l, h);
    hook(name('hook_resid_pre'), x, ['pos', d]);

    // Attention
    const xn = rmsnorm(x, b.ln1_w, `blocks.${l}.ln1.w`);
    const q = rope(splitHeads(linear(xn, b.W_Q, H * dh, d, `blocks.${l}.attn.W_Q`), H));
    const k = rope(splitHeads(linear(xn, b.W_K, Hkv * dh, d, `blocks.${l}.attn.W_K`), Hkv));
    const v = splitHeads(linear(xn, b.W_V, Hkv * dh, d, `blocks.${l}.attn.W_V`), Hkv);
    const kT = g.op('Transpose', [repeatKv(k)], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), scale]), mask]); // [1, H, pos, pos]
    const pattern = g.op('Softmax', [scores], { axis: { i: -1 } });
    hook(name('attn.hook_pattern'), pattern, [H, 'pos', 'pos']);
    const z = g.op('MatMul', [pattern, repeatKv(v)]); // [1, H, pos, d_head]
    const zFlat = g.op('Reshape', [g.op('Transpose', [z], { perm: { ints: [0, 2, 1, 3] } }), g.constInt64([1, -1, H * dh])]);
    const attnOut = linear(zFlat, b.W_O, d, H * dh, `blocks.${l}.attn.W_O`);
    hook(name('hook_attn_out'), attnOut, ['pos', d]);
    const mid = g.op('Add', [x, attnOut]);
    hook(name('hook_resid_mid'), mid, ['pos', d]);

    // SwiGLU MLP
    const mn = rmsnorm(mid, b.ln2_w, `blocks.${l}.ln2.w`);
    const gate = linear(mn, b.W_gate, c.d_mlp, d, `blocks.${l}.mlp.W_gate`);
    const up = linear(mn, b.W_in, c.d_mlp, d, `blocks.${l}.mlp.W_in`);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    const mlpOut = linear(act, b.W_out, d, c.d_mlp, `blocks.${l}.mlp.W_out`);
    hook(name('hook_mlp_out'), mlpOut, ['pos', d]);
    x = g.op('Add', [mid, mlpOut]);
    hook(name('hook_resid_post'), x, ['pos', d]);
  }

  const normed = rmsnorm(x, w.ln_final_w, 'ln_final.w');
  hook('ln_final.hook_normalized', normed, ['pos', d]);
  const logits = linear(normed, w.W_U, c.d_vocab, d, 'W_U');
  hook('logits', logits, ['pos', c.d_vocab]);
  return g.toBytes();
}
