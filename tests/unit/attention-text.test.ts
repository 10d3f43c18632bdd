/**
 * Attention as shaded text (src/core/analysis/attention-text.ts): hand-made patterns with the
 * shades and widths worked out by hand, and stories260K's rows against the reference forward
 * pass (1e-5, float32 graph vs the plain-TypeScript oracle).
 */
import { describe, expect, it } from 'vitest';
import { attentionTextHooks, computeAttentionText, runAttentionText } from '../../src/core/analysis/attention-text.ts';
import type { HookMap } from '../../src/core/engine/hooked-model.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { openModel } from '../../src/node/open-model.ts';

// 2 heads, 4 positions; rows are causal. Query 3: head 0 [0.5, 0.25, 0.125, 0.125], head 1 uniform.
const HAND: HookMap = new Map([
  [
    'blocks.0.attn.hook_pattern',
    {
      dims: [2, 4, 4],
      data: Float32Array.from([
        ...[1, 0, 0, 0, 0.5, 0.5, 0, 0, 0.5, 0.25, 0.25, 0, 0.5, 0.25, 0.125, 0.125],
        ...[1, 0, 0, 0, 0.75, 0.25, 0, 0, 0.25, 0.25, 0.5, 0, 0.25, 0.25, 0.25, 0.25],
      ]),
    },
  ],
]);
const TOKENS = ['<s>', 'Tom', ' had', ' a'].map((text, i) => ({ id: 10 + i, text }));
const CONFIG = { n_layers: 1, n_heads: 2 };

describe('attention text: hand-made patterns', () => {
  it('head average, threshold 0.2, widths 2..10: shades and widths by hand', () => {
    const a = computeAttentionText(HAND, CONFIG, TOKENS, { layer: 0, head: 'average', query: 3, threshold: 0.2, minWidth: 2, maxWidth: 10 });
    // average row: [0.375, 0.25, 0.1875, 0.1875]; the largest weight ≥ 0.2 is 0.375
    expect(a.tokens.map((t) => t.weight)).toEqual([0.375, 0.25, 0.1875, 0.1875]);
    expect(a.tokens.map((t) => t.shade)).toEqual([1, 0.25 / 0.375, 0, 0]);
    expect(a.tokens.map((t) => t.width)).toEqual([10, 2 + 8 * (0.25 / 0.375), 0, 0]);
    expect(a.tokens.map((t) => t.isQuery)).toEqual([false, false, false, true]);
    expect(a.tokens.map((t) => t.text)).toEqual(['<s>', 'Tom', ' had', ' a']);
  });

  it('one head, no threshold, absolute scale; keys after the query get 0', () => {
    const a = computeAttentionText(HAND, CONFIG, TOKENS, { layer: 0, head: 1, query: 2, scale: 'absolute', minWidth: 0, maxWidth: 4 });
    expect(a.tokens.map((t) => t.weight)).toEqual([0.25, 0.25, 0.5, 0]);
    expect(a.tokens.map((t) => t.shade)).toEqual([0.25, 0.25, 0.5, 0]);
    expect(a.tokens.map((t) => t.width)).toEqual([1, 1, 2, 0]);
    const m = computeAttentionText(HAND, CONFIG, TOKENS, { layer: 0, head: 1, query: 2 });
    expect(m.tokens.map((t) => t.shade)).toEqual([0.5, 0.5, 1, 0]);
    expect(m.settings).toEqual({ threshold: 0, minWidth: 1, maxWidth: 6, scale: 'max' });
  });

  it('bad options are explained', () => {
    const run = (o: object) => () => computeAttentionText(HAND, CONFIG, TOKENS, { layer: 0, head: 'average', query: 3, ...o });
    expect(run({ layer: 1 })).toThrow(/block index 0\.\.0, got 1/);
    expect(run({ head: 2 })).toThrow(/head must be 0\.\.1 or the average, got 2/);
    expect(run({ query: 4 })).toThrow(/query position must be 0\.\.3, got 4/);
    expect(run({ threshold: 1.5 })).toThrow(/threshold must be in \[0, 1\]/);
    expect(run({ minWidth: 5, maxWidth: 2 })).toThrow(/0 ≤ min ≤ max/);
    expect(() => computeAttentionText(HAND, CONFIG, TOKENS.slice(1), { layer: 0, head: 0, query: 0 })).toThrow(/covers 4 positions but 3 tokens/);
    expect(() => computeAttentionText(new Map(), CONFIG, TOKENS, { layer: 0, head: 0, query: 0 })).toThrow(/needs the hook blocks\.0\.attn\.hook_pattern/);
  });
});

describe('attention text on stories260K', () => {
  it('every head and the average, last query, against the reference forward pass (1e-5)', async () => {
    const m = await openModel('stories260K');
    const ids = m.tokenizer.encode('Tom had a red ball. He gave it to', { addBos: true });
    const c = m.model.config, T = ids.length, layer = c.n_layers - 1;
    const ref = referenceForward(c, m.model.weights, ids).hooks.get(`blocks.${layer}.attn.hook_pattern`)!;
    expect(attentionTextHooks(c, { layer })).toEqual([`blocks.${layer}.attn.hook_pattern`]);
    for (const head of [...Array(c.n_heads).keys(), 'average' as const]) {
      const a = await runAttentionText(m.hooked, ids, (id) => m.tokenizer.piece(id), { layer, head, query: T - 1, threshold: 0.05 });
      const expected = Array.from({ length: T }, (_, s) => {
        const hs = head === 'average' ? [...Array(c.n_heads).keys()] : [head];
        return hs.reduce((sum, h) => sum + ref[(h * T + T - 1) * T + s], 0) / hs.length;
      });
      a.tokens.forEach((t, s) => expect(Math.abs(t.weight - expected[s]), `head ${head} key ${s}`).toBeLessThan(1e-5));
      expect(Math.abs(a.tokens.reduce((s, t) => s + t.weight, 0) - 1)).toBeLessThan(1e-5);
      expect(Math.max(...a.tokens.map((t) => t.shade))).toBe(1);
      for (const t of a.tokens) expect(t.weight < 0.05 ? t.shade === 0 && t.width === 0 : t.width >= 1 && t.width <= 6).toBe(true);
      expect(a.tokens.map((t) => t.text)).toEqual(ids.map((id) => m.tokenizer.piece(id)));
    }
    const early = await runAttentionText(m.hooked, ids, (id) => m.tokenizer.piece(id), { layer: 0, head: 'average', query: 2 });
    expect(early.tokens.slice(3).every((t) => t.weight === 0 && t.shade === 0)).toBe(true);
    await m.hooked.release();
  });
});
