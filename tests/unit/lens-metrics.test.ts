/** Attention and feed-forward shares by norm proportion (methods.md §2), on hand-computed vectors. */
import { describe, expect, it } from 'vitest';
import { blockShares, normShare } from '../../src/core/analysis/cell-metrics.ts';

describe('norm-proportion shares', () => {
  it('‖update‖ / (‖residual‖ + ‖update‖)', () => {
    expect(normShare([0, 5], [3, 4])).toBe(0.5); // 5 / (5 + 5)
    expect(normShare([1, 2, 2], [0, 0, 6])).toBeCloseTo(1 / 3, 15); // 3 / (6 + 3)
    expect(normShare([0, 0], [3, 4])).toBe(0);
    expect(normShare([3, 4], [0, 0])).toBe(1);
    expect(normShare([0, 0], [0, 0])).toBeNull();
  });

  it('per block and position from hooks: x^(ℓ−1) is the embedding for block 1, the previous block output after', () => {
    // d = 2, T = 2, L = 2. Position 0 worked by hand; position 1 is all zeros in the deltas.
    const hooks: Record<string, number[]> = {
      hook_embed: [3, 4, 1, 0],
      'blocks.0.hook_attn_out': [0, 5, 0, 0], // att 1 = 5 / (5 + 5) = 0.5
      'blocks.0.hook_resid_mid': [3, 9, 1, 0],
      'blocks.0.hook_mlp_out': [6, 8, 0, 0], // ff 1 = 10 / (√90 + 10)
      'blocks.0.hook_resid_post': [9, 17, 1, 0],
      'blocks.1.hook_attn_out': [0, 0, 0, 0], // att 2 = 0 / (‖(9,17)‖ + 0) = 0
      'blocks.1.hook_resid_mid': [9, 17, 1, 0],
      'blocks.1.hook_mlp_out': [-9, -17, 0, 0], // ff 2 = ‖(9,17)‖ / (2‖(9,17)‖) = 0.5
      'blocks.1.hook_resid_post': [0, 0, 1, 0],
    };
    const s = blockShares((h) => Float32Array.from(hooks[h]), 2, 2, 2);
    expect(s.att[0][0]).toBe(0.5);
    expect(s.ff[0][0]).toBeCloseTo(10 / (Math.sqrt(90) + 10), 12);
    expect(s.att[1][0]).toBe(0);
    expect(s.ff[1][0]).toBeCloseTo(0.5, 12);
    expect([s.att[0][1], s.ff[0][1], s.att[1][1], s.ff[1][1]]).toEqual([0, 0, 0, 0]);
  });
});
