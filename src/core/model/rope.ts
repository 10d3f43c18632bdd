/**
 * RoPE inverse frequencies θ_i = base^(−2i/d_head), i < d_head/2, with the config's scaling:
 * - linear: θ_i / factor (positions interpolated);
 * - llama3: Meta's Llama 3.1 rule — long wavelengths divided by `factor`, short ones kept,
 *   a smooth blend between (transformers' `_compute_llama3_parameters`).
 */
import type { ModelConfig } from './config.ts';

export function ropeInvFreq(c: Pick<ModelConfig, 'd_head' | 'rope_theta' | 'rope_scaling'>): Float64Array {
  const half = c.d_head / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(c.rope_theta, (2 * i) / c.d_head));
  const s = c.rope_scaling;
  if (!s) return inv;
  if (s.type === 'linear') return inv.map((f) => f / s.factor);
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}
