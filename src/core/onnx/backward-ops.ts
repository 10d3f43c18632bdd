/**
 * Building blocks of the gradient graph (backward-graph.ts): each forward piece that has
 * a hand-written reverse-mode rule emits both its forward nodes and, later, its backward
 * nodes from the values the forward kept. Everything is a plain opset-17 op, so the graph
 * runs on any ONNX Runtime build, including onnxruntime-web's inference-only wasm/WebGPU
 * (ORT's training graphs are not in those builds).
 *
 * Conventions: a row vector per position; `g` is the upstream gradient ∂L/∂y of the
 * scalar target L; ⊙ is elementwise; mean is over the last (feature) axis.
 *
 * References: Zhang & Sennrich 2019 (RMSNorm); Su et al. 2021 (RoPE); Hendrycks & Gimpel
 * 2016 (GELU, tanh form); Elfwing et al. 2017 (SiLU).
 */
import type { ModelConfig } from '../model/config.ts';
import type { GraphBuilder } from './graph-builder.ts';

const lastAxisMean = { axes: { ints: [-1] }, keepdims: { i: 1 } } as const;

export interface RmsForward {
  /** y = γ ⊙ x · r */
  y: string;
  /** r = 1/√(mean(x²) + ε), shape [.., 1] */
  r: string;
}

/** RMSNorm forward, keeping r for the backward pass. */
export function rmsForward(g: GraphBuilder, x: string, gamma: string, eps: string): RmsForward {
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], lastAxisMean);
  const r = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, eps])])]);
  return { y: g.op('Mul', [g.op('Mul', [x, r]), gamma]), r };
}

/**
 * RMSNorm backward. With r = (mean(x²) + ε)^(−1/2), ∂r/∂x_j = −r³·x_j/d, so
 *   ∂y_i/∂x_j = γ_i·(r·δ_ij − r³·x_i·x_j/d)
 *   ∂L/∂x = r·(g ⊙ γ) − r³·x·mean(x ⊙ g ⊙ γ).
 */
export function rmsBackward(g: GraphBuilder, x: string, fwd: RmsForward, gamma: string, grad: string): string {
  const gg = g.op('Mul', [grad, gamma]);
  const m = g.op('ReduceMean', [g.op('Mul', [x, gg])], lastAxisMean);
  const r3 = g.op('Mul', [g.op('Mul', [fwd.r, fwd.r]), fwd.r]);
  return g.op('Sub', [g.op('Mul', [gg, fwd.r]), g.op('Mul', [g.op('Mul', [x, r3]), m])]);
}

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export interface ActForward {
  /** act(u) */
  y: string;
  /** act'(u), computed alongside the forward from the same intermediates. */
  dy: string;
}

/**
 * The MLP activation and its derivative.
 * - SiLU: act(u) = u·σ(u); act'(u) = σ(u)·(1 + u·(1 − σ(u))).
 * - GELU (tanh): with s = k·(u + c·u³), k = √(2/π), c = 0.044715, τ = tanh(s):
 *   act(u) = ½·u·(1 + τ); act'(u) = ½·(1 + τ) + ½·u·(1 − τ²)·k·(1 + 3c·u²).
 */
export function activation(g: GraphBuilder, c: Pick<ModelConfig, 'act_fn'>, u: string): ActForward {
  const one = g.constFloat([1], []);
  if (c.act_fn === 'silu') {
    const sig = g.op('Sigmoid', [u]);
    const dy = g.op('Mul', [sig, g.op('Add', [one, g.op('Mul', [u, g.op('Sub', [one, sig])])])]);
    return { y: g.op('Mul', [u, sig]), dy };
  }
  const half = g.constFloat([0.5], []);
  const u2 = g.op('Mul', [u, u]);
  const s = g.op('Mul', [g.op('Add', [u, g.op('Mul', [g.op('Mul', [u2, u]), g.constFloat([GELU_C], [])])]), g.constFloat([GELU_K], [])]);
  const tau = g.op('Tanh', [s]);
  const onePlusTau = g.op('Add', [tau, one]);
  const y = g.op('Mul', [g.op('Mul', [u, half]), onePlusTau]);
  const sech2 = g.op('Sub', [one, g.op('Mul', [tau, tau])]);
  const ds = g.op('Mul', [g.op('Add', [one, g.op('Mul', [u2, g.constFloat([3 * GELU_C], [])])]), g.constFloat([GELU_K], [])]); // ∂s/∂u
  const dy = g.op('Add', [g.op('Mul', [onePlusTau, half]), g.op('Mul', [g.op('Mul', [g.op('Mul', [u, half]), sech2]), ds])]);
  return { y, dy };
}

