/** Scalar building blocks of the reference forward pass (llama2.c style loops). */

/** out[o] = Σ_i W[o, i] x[i] (+ b[o]), W row-major [out, in] — the Linear layout. */
export function matvec(out: Float32Array, W: Float32Array, x: Float32Array, nOut: number, nIn: number, b?: Float32Array): void {
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    const row = o * nIn;
    for (let i = 0; i < nIn; i++) s += W[row + i] * x[i];
    out[o] = b ? s + b[o] : s;
  }
}

/** out = γ ⊙ x / √(mean(x²) + ε). Gemma's 1 + γ is folded into γ at load time. */
export function rmsnorm(out: Float32Array, x: Float32Array, gamma: Float32Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = gamma[i] * (x[i] * inv);
}

export const silu = (x: number): number => x / (1 + Math.exp(-x));

/** GELU, tanh approximation (PyTorch's approximate="tanh", Gemma's hidden_act). */
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
