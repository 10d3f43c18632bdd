/** RoPE as constant tables, shared by the forward graph and the backward (gradient) graph. */
import type { ModelConfig } from '../model/config.ts';
import { ropeInvFreq } from '../model/rope.ts';

/**
 * RoPE tables cos/sin [positions, d_head] (each pair's angle on both of its dimensions) and
 * the pairing matrix R with (x·R)[a] = −x[b], (x·R)[b] = x[a], so RoPE(x) = x⊙cos + (x·R)⊙sin
 * for both layouts.
 * Angles are float32 pos·θ_i as llama2.c and Hugging Face form them; cos/sin in float64 —
 * stored rather than computed in-graph with Cos/Sin: WGSL only bounds sin/cos error on [−π, π],
 * and SwiftShader's WebGPU was 1e-3 off at position 63.
 * Backward: RoPE is a rotation per pair, so ∂L/∂x = g⊙cos + (g⊙sin)·Rᵀ, and Rᵀ = −R.
 */
export function ropeTables(c: Pick<ModelConfig, 'd_head' | 'rope_theta' | 'rope_scaling' | 'rope_style'>, positions: number): { cos: Float32Array; sin: Float32Array; R: Float32Array; RT: Float32Array } {
  const dh = c.d_head, half = dh / 2;
  const invFreq = ropeInvFreq(c);
  const cos = new Float32Array(positions * dh), sin = new Float32Array(positions * dh);
  const R = new Float32Array(dh * dh), RT = new Float32Array(dh * dh);
  for (let i = 0; i < half; i++) {
    const [a, b] = c.rope_style === 'interleaved' ? [2 * i, 2 * i + 1] : [i, i + half];
    const f = Math.fround(invFreq[i]);
    for (let p = 0; p < positions; p++) {
      const angle = Math.fround(p * f);
      cos[p * dh + a] = cos[p * dh + b] = Math.cos(angle);
      sin[p * dh + a] = sin[p * dh + b] = Math.sin(angle);
    }
    R[b * dh + a] = -1;
    R[a * dh + b] = 1;
    RT[a * dh + b] = -1;
    RT[b * dh + a] = 1;
  }
  return { cos, sin, R, RT };
}
