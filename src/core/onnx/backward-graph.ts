/**
 * The gradient graph: the forward pass of a Llama-family model followed by a hand-derived
 * reverse-mode pass, as plain ONNX ops (opset 17), giving ∂L/∂state for the scalar target
 *   L = logits[p, y]   (one token's logit at one position)
 * at every block output x^(ℓ) (hook_resid_post; row 0 is the embedding x^(0) =
 * hook_embed = blocks.0.hook_resid_pre) and every intermediate x'^(ℓ) (hook_resid_mid).
 * Their L2 norms are the grad-CAM analogue of methods.md §3 ("gradient-based node importance").
 *
 * Why by hand: ONNX Runtime's training graphs (automatic differentiation) are not part of
 * onnxruntime-web's inference builds, and the page must compute this on the reader's device.
 * The backward of a transformer is a short, fixed list of rules, each written next to its
 * formula below and in backward-ops.ts; tests/unit/gradient.test.ts checks the whole
 * gradient against central finite differences of the reference forward pass.
 *
 * Inputs:  input_ids int64 [1, pos]; target_position int64 [1]; target_token int64 [1]
 *          (negative: the model's argmax at target_position, its greedy next token).
 * Outputs: grad_norm.resid_post [L+1, pos], grad_norm.resid_mid [L, pos],
 *          target.token_id int64 [1] (the token actually used), target.logit [1];
 *          with `fullGradients`: grad.resid_post [L+1, pos, d], grad.resid_mid [L, pos, d].
 *
 * Layout: the batch axis is dropped after the embedding ([pos, d] rows), so every weight is
 * stored once in its Linear layout W [out, in]: the forward is Gemm(x, W, transB) and the
 * backward of y = x·Wᵀ is ∂L/∂x = g·W, a plain MatMul with the same initializer. Tied
 * embeddings share one initializer too. Only logits[p] is computed (the argmax needs one
 * row), never [pos, d_vocab]. Positions after p get exactly zero gradient: the upstream
 * gradient is zero there and the causal softmax's P[t, s] is exactly 0 for s > t.
 */
import type { ModelConfig } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { floatBlock } from '../model/quantized.ts';
import { activation, type ActForward, rmsBackward, rmsForward, type RmsForward } from './backward-ops.ts';
import { ropeTables } from './rope-tables.ts';
import { DataType, type ExternalDataOptions, GraphBuilder, type OnnxModel } from './graph-builder.ts';
import { DEFAULT_ROPE_POSITIONS } from './llama-graph.ts';

export interface GradientGraphOptions {
  /** Also output the full gradients (tests; large for big models). */
  fullGradients?: boolean;
  /** Longest prompt the graph accepts (RoPE table rows); default min(n_ctx, 4096). */
  maxPositions?: number;
  /** When weights move to external data (default past 1.5 GiB; tests force it). */
  externalData?: ExternalDataOptions;
}

export const GRAD_NORM_POST = 'grad_norm.resid_post';
export const GRAD_NORM_MID = 'grad_norm.resid_mid';
export const GRAD_POST = 'grad.resid_post';
export const GRAD_MID = 'grad.resid_mid';

/** What the forward pass keeps per block for the backward pass. */
interface BlockTape {
  x: string; // block input [T, d]
  ln1: RmsForward;
  qr: string; // roped queries [H, T, dh]
  kr: string; // roped keys, repeated to H heads [H, T, dh]
  v: string; // values, repeated to H heads [H, T, dh]
  P: string; // attention pattern [H, T, T]
  mid: string; // x' [T, d]
  ln2: RmsForward;
  act: ActForward; // act(gate)
  up: string; // [T, d_mlp]
}

/** The graph, its weights as external data once they pass 1.5 GiB (a 7B model's float32 weights: GraphBuilder.toModel). */
export function buildGradientGraph(c: ModelConfig, w: ModelWeights, opts: GradientGraphOptions = {}): OnnxModel {
  const g = new GraphBuilder('lenspress-gradient');
  const d = c.d_model, dh = c.d_head, H = c.n_heads, Hkv = c.n_kv_heads, rep = H / Hkv;
  const L = c.n_layers;

  // ---- constants, weights (one initializer each, Linear layout [out, in]) ----
  const W_E = g.initializer('W_E', w.W_E, [c.d_vocab, d]);
  const W_U = w.W_U === w.W_E ? W_E : g.initializer('W_U', w.W_U, [c.d_vocab, d]);
  const eps = g.constFloat([c.norm_eps], []);
  const init = (data: Float32Array, dims: number[], hint: string) => g.initializer(hint, data, dims);
  /** y = x·Wᵀ (+ b), x [T, in], W [out, in]. */
  const linear = (x: string, W: string, b?: string) => g.op('Gemm', b ? [x, W, b] : [x, W], { transB: { i: 1 } });
  /** ∂L/∂x of y = x·Wᵀ: g·W. */
  const linearBack = (grad: string, W: string) => g.op('MatMul', [grad, W]);

  const ids = g.input('input_ids', DataType.INT64, [1, 'pos']);
  const targetPos = g.input('target_position', DataType.INT64, [1]);
  const targetTok = g.input('target_token', DataType.INT64, [1]);

  // Positions, causal (+ sliding-window) mask and RoPE tables, as in llama-graph.ts.
  const T = g.op('Gather', [g.op('Shape', [ids]), g.constInt64([1], [])], { axis: { i: 0 } });
  const positions = g.op('Range', [g.constInt64([0], []), T, g.constInt64([1], [])]); // [T]
  const Pmax = opts.maxPositions ?? Math.min(c.n_ctx, DEFAULT_ROPE_POSITIONS);
  const tables = ropeTables(c, Pmax);
  const cos = g.op('Gather', [init(tables.cos, [Pmax, dh], 'rope_cos'), positions], { axis: { i: 0 } }); // [T, dh]
  const sin = g.op('Gather', [init(tables.sin, [Pmax, dh], 'rope_sin'), positions], { axis: { i: 0 } });
  const R = init(tables.R, [dh, dh], 'rope_R'), RT = init(tables.RT, [dh, dh], 'rope_RT');
  const qPos = g.op('Unsqueeze', [positions, g.constInt64([1])]), kPos = g.op('Unsqueeze', [positions, g.constInt64([0])]);
  let hidden = g.op('Greater', [kPos, qPos]);
  if (c.sliding_window) hidden = g.op('Or', [hidden, g.op('GreaterOrEqual', [g.op('Sub', [qPos, kPos]), g.constInt64([c.sliding_window], [])])]);
  const mask = g.op('Where', [hidden, g.constFloat([-Infinity], []), g.constFloat([0], [])]); // [T, T]
  const scale = g.constFloat([1 / Math.sqrt(dh)], []);

  const rope = (x: string) => g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [g.op('MatMul', [x, R]), sin])]);
  // RoPE backward: y = x⊙cos + (x·R)⊙sin ⇒ ∂L/∂x = g⊙cos + (g⊙sin)·Rᵀ
  const ropeBack = (grad: string) => g.op('Add', [g.op('Mul', [grad, cos]), g.op('MatMul', [g.op('Mul', [grad, sin]), RT])]);
  const headsFirst = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.constInt64([-1, n, dh])])], { perm: { ints: [1, 0, 2] } }); // [T, n·dh] → [n, T, dh]
  const rowsFirst = (x: string, n: number) => g.op('Reshape', [g.op('Transpose', [x], { perm: { ints: [1, 0, 2] } }), g.constInt64([-1, n * dh])]); // inverse
  const swapLast = (x: string) => g.op('Transpose', [x], { perm: { ints: [0, 2, 1] } });
  // GQA: query head h reads kv head ⌊h/rep⌋ (adjacent heads share), so the forward repeats
  // each kv head `rep` times in place and the backward sums each group of `rep` gradients.
  const repeatKv = (x: string) =>
    rep === 1 ? x : g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [x, g.constInt64([1])]), g.constInt64([1, rep, 1, 1])]), g.constInt64([H, -1, dh])]);
  const sumKv = (x: string) =>
    rep === 1 ? x : g.op('ReduceSum', [g.op('Reshape', [x, g.constInt64([Hkv, rep, -1, dh])]), g.constInt64([1])], { keepdims: { i: 0 } });

  // ---------------------------------- forward ----------------------------------
  let x = g.op('Gather', [W_E, g.op('Squeeze', [ids, g.constInt64([0])])], { axis: { i: 0 } }); // [T, d]
  if (c.embed_scale !== 1) x = g.op('Mul', [x, g.constFloat([c.embed_scale], [])]);
  const tapes: BlockTape[] = [];
  // quantised projections are dequantised: gradients run in float32
  const blockW = w.blocks.map(floatBlock).map((b, l) => {
    const p = `blocks.${l}`;
    const bias = (v: Float32Array | undefined, n: number, hint: string) => (v ? init(v, [n], hint) : undefined);
    return {
      ln1: init(b.ln1_w, [d], `${p}.ln1.w`),
      W_Q: init(b.W_Q, [H * dh, d], `${p}.attn.W_Q`),
      W_K: init(b.W_K, [Hkv * dh, d], `${p}.attn.W_K`),
      W_V: init(b.W_V, [Hkv * dh, d], `${p}.attn.W_V`),
      b_Q: bias(b.b_Q, H * dh, `${p}.attn.b_Q`),
      b_K: bias(b.b_K, Hkv * dh, `${p}.attn.b_K`),
      b_V: bias(b.b_V, Hkv * dh, `${p}.attn.b_V`),
      W_O: init(b.W_O, [d, H * dh], `${p}.attn.W_O`),
      ln2: init(b.ln2_w, [d], `${p}.ln2.w`),
      W_gate: init(b.W_gate, [c.d_mlp, d], `${p}.mlp.W_gate`),
      W_in: init(b.W_in, [c.d_mlp, d], `${p}.mlp.W_in`),
      W_out: init(b.W_out, [d, c.d_mlp], `${p}.mlp.W_out`),
    };
  });

  for (let l = 0; l < L; l++) {
    const b = blockW[l];
    const ln1 = rmsForward(g, x, b.ln1, eps);
    const qr = rope(headsFirst(linear(ln1.y, b.W_Q, b.b_Q), H));
    const kr = repeatKv(rope(headsFirst(linear(ln1.y, b.W_K, b.b_K), Hkv)));
    const v = repeatKv(headsFirst(linear(ln1.y, b.W_V, b.b_V), Hkv));
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [qr, swapLast(kr)]), scale]), mask]); // [H, T, T]
    const P = g.op('Softmax', [scores], { axis: { i: -1 } });
    const z = rowsFirst(g.op('MatMul', [P, v]), H); // [T, H·dh]
    const mid = g.op('Add', [x, linear(z, b.W_O)]);
    const ln2 = rmsForward(g, mid, b.ln2, eps);
    const act = activation(g, c, linear(ln2.y, b.W_gate));
    const up = linear(ln2.y, b.W_in);
    tapes.push({ x, ln1, qr, kr, v, P, mid, ln2, act, up });
    x = g.op('Add', [mid, linear(g.op('Mul', [act.y, up]), b.W_out)]);
  }

  // Final norm, then only row p of the logits: L = n_p · W_U[y].
  const lnF = init(w.ln_final_w, [d], 'ln_final.w');
  const final = rmsForward(g, x, lnF, eps);
  const logitsRow = linear(g.op('Gather', [final.y, targetPos], { axis: { i: 0 } }), W_U); // [1, V]
  const argmax = g.op('ArgMax', [logitsRow], { axis: { i: 1 }, keepdims: { i: 0 } }); // [1]
  const token = g.op('Where', [g.op('Less', [targetTok, g.constInt64([0], [])]), argmax, targetTok]);
  g.node('Identity', [token], {}, ['target.token_id']);
  g.node('Reshape', [g.op('Gather', [logitsRow, token], { axis: { i: 1 } }), g.constInt64([1])], {}, ['target.logit']);

  // ---------------------------------- backward ----------------------------------
  // ∂L/∂n_t = [t = p]·W_U[y]  (one-hot over positions times the target's unembedding row)
  const onehot = g.op('Unsqueeze', [g.op('Cast', [g.op('Equal', [positions, targetPos])], { to: { i: DataType.FLOAT } }), g.constInt64([1])]); // [T, 1]
  let dx = rmsBackward(g, x, final, lnF, g.op('Mul', [onehot, g.op('Gather', [W_U, token], { axis: { i: 0 } })]));
  const dPost: string[] = [dx]; // ∂L/∂x^(L), then x^(L−1), … x^(0)
  const dMid: string[] = [];

  for (let l = L - 1; l >= 0; l--) {
    const b = blockW[l], t = tapes[l];
    // MLP. x = x' + W_out·(act(u_g) ⊙ u_in), u_g = W_gate·n, u_in = W_in·n, n = RMSNorm(x'):
    //   ∂L/∂a = g·W_out;  ∂L/∂u_in = ∂L/∂a ⊙ act(u_g);  ∂L/∂u_g = ∂L/∂a ⊙ u_in ⊙ act'(u_g)
    //   ∂L/∂n = ∂L/∂u_g·W_gate + ∂L/∂u_in·W_in;  ∂L/∂x' = g + RMSNorm⁻ᵀ(∂L/∂n)
    const da = linearBack(dx, b.W_out);
    const dUp = g.op('Mul', [da, t.act.y]);
    const dGate = g.op('Mul', [g.op('Mul', [da, t.up]), t.act.dy]);
    const dn2 = g.op('Add', [linearBack(dGate, b.W_gate), linearBack(dUp, b.W_in)]);
    const dmid = g.op('Add', [dx, rmsBackward(g, t.mid, t.ln2, b.ln2, dn2)]);
    dMid.unshift(dmid);

    // Attention. x' = x + W_O·z, z = P·V, P = softmax(S), S = Q̃K̃ᵀ/√d_head + mask:
    //   ∂L/∂z = g·W_O;  ∂L/∂P = ∂L/∂z·Vᵀ;  ∂L/∂V = Pᵀ·∂L/∂z
    //   softmax Jacobian per row: ∂L/∂S = P ⊙ (∂L/∂P − Σ_s P⊙∂L/∂P)   (masked P = 0 ⇒ 0)
    //   ∂L/∂Q̃ = ∂L/∂S·K̃/√d_head;  ∂L/∂K̃ = ∂L/∂Sᵀ·Q̃/√d_head
    //   then RoPE backward, kv-group sums (GQA), and ∂L/∂n = Σ ∂L/∂{q,k,v}·W_{Q,K,V}
    //   (biases shift q, k, v and do not change these Jacobians).
    const dz = headsFirst(linearBack(dmid, b.W_O), H); // [H, T, dh]
    const dP = g.op('MatMul', [dz, swapLast(t.v)]);
    const dv = sumKv(g.op('MatMul', [swapLast(t.P), dz]));
    const rowDot = g.op('ReduceSum', [g.op('Mul', [t.P, dP]), g.constInt64([-1])], { keepdims: { i: 1 } });
    const dS = g.op('Mul', [g.op('Mul', [t.P, g.op('Sub', [dP, rowDot])]), scale]); // includes the 1/√d_head
    const dq = ropeBack(g.op('MatMul', [dS, t.kr]));
    const dk = sumKv(ropeBack(g.op('MatMul', [swapLast(dS), t.qr])));
    const dn1 = g.op('Add', [g.op('Add', [linearBack(rowsFirst(dq, H), b.W_Q), linearBack(rowsFirst(dk, Hkv), b.W_K)]), linearBack(rowsFirst(dv, Hkv), b.W_V)]);
    dx = g.op('Add', [dmid, rmsBackward(g, t.x, t.ln1, b.ln1, dn1)]);
    dPost.unshift(dx);
  }

  // Norms per (state, position), stacked into [rows, T]; full gradients only when asked.
  const stack = (grads: string[], rank3: boolean) =>
    g.op('Concat', grads.map((gr) => g.op('Unsqueeze', [rank3 ? gr : g.op('ReduceL2', [gr], { axes: { ints: [-1] }, keepdims: { i: 0 } }), g.constInt64([0])])), { axis: { i: 0 } });
  g.node('Identity', [stack(dPost, false)], {}, [GRAD_NORM_POST]);
  g.node('Identity', [stack(dMid, false)], {}, [GRAD_NORM_MID]);
  g.output(GRAD_NORM_POST, DataType.FLOAT, [L + 1, 'pos']);
  g.output(GRAD_NORM_MID, DataType.FLOAT, [L, 'pos']);
  g.output('target.token_id', DataType.INT64, [1]);
  g.output('target.logit', DataType.FLOAT, [1]);
  if (opts.fullGradients) {
    g.node('Identity', [stack(dPost, true)], {}, [GRAD_POST]);
    g.node('Identity', [stack(dMid, true)], {}, [GRAD_MID]);
    g.output(GRAD_POST, DataType.FLOAT, [L + 1, 'pos', d]);
    g.output(GRAD_MID, DataType.FLOAT, [L, 'pos', d]);
  }
  return g.toModel(opts.externalData);
}
