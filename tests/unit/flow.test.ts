/**
 * The information-flow graph (src/core/analysis/flow.ts): a tiny case whose masses are worked
 * out by hand below, mass conservation row by row (|Σ − 1| ≤ 1e-9), the recurrence against an
 * independent dense matrix formulation (1e-12), link filtering that leaves masses unchanged,
 * and end-to-end runs on stories260K and a random Mistral-shaped checkpoint (sliding window).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { computeFlow, type FlowGraph, flowHooks, runFlow } from '../../src/core/analysis/flow.ts';
import { HookedModel, type HookMap } from '../../src/core/engine/hooked-model.ts';
import type { OrtModule } from '../../src/core/engine/runtime.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { readStories } from '../helpers/stories.ts';

const backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'test' };

/** [a, 0] and [0, b] have norms a and b, so share = b / (a + b) exactly. */
function tinyHooks(): HookMap {
  const m: HookMap = new Map();
  const vec = (pairs: [number, number][]) => ({ data: Float32Array.from(pairs.flat()), dims: [pairs.length, 2] });
  const pattern = (heads: number[][][]) => ({ data: Float32Array.from(heads.flat(2)), dims: [heads.length, 3, 3] });
  // block 1 (row 1, blocks.0): share_att = [1/3, 1/2, 2/3], share_ff = [1/2, 1/3, 1/4]
  m.set('blocks.0.hook_resid_pre', vec([[2, 0], [1, 0], [1, 0]]));
  m.set('blocks.0.hook_attn_out', vec([[0, 1], [0, 1], [0, 2]]));
  m.set('blocks.0.hook_resid_mid', vec([[1, 0], [2, 0], [3, 0]]));
  m.set('blocks.0.hook_mlp_out', vec([[0, 1], [0, 1], [0, 1]]));
  m.set('blocks.0.attn.hook_pattern', pattern([[[1, 0, 0], [0.5, 0.5, 0], [0.125, 0.125, 0.75]], [[1, 0, 0], [0.25, 0.75, 0], [0.5, 0.25, 0.25]]]));
  // block 2 (row 2, blocks.1): share_att = [1/2, 1/4, 3/4], share_ff = [0, 1/2, 1/5]
  m.set('blocks.1.hook_resid_pre', vec([[1, 0], [3, 0], [1, 0]]));
  m.set('blocks.1.hook_attn_out', vec([[0, 1], [0, 1], [0, 3]]));
  m.set('blocks.1.hook_resid_mid', vec([[1, 0], [1, 0], [4, 0]]));
  m.set('blocks.1.hook_mlp_out', vec([[0, 0], [0, 1], [0, 1]]));
  m.set('blocks.1.attn.hook_pattern', pattern([[[1, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]], [[1, 0, 0], [0.75, 0.25, 0], [0.625, 0.125, 0.25]]]));
  return m;
}
const TINY = { n_layers: 2 };

const blockMasses = (g: FlowGraph, row: number, T: number) => Array.from({ length: T }, (_, t) => g.nodes.find((n) => n.id === `block:${row}:${t}`)?.mass ?? 0);
const node = (g: FlowGraph, id: string) => g.nodes.find((n) => n.id === id)!;

function expectAll(actual: number[], expected: number[], tol: number) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `[${i}] ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

describe('flow: a hand-computed case (2 blocks, 3 positions, 2 heads)', () => {
  // Head-averaged attention: block 2 row t=2: [(0.25+0.625)/2, (0.25+0.125)/2, (0.5+0.25)/2] = [0.4375, 0.1875, 0.375];
  // block 1 rows: t=0 [1, 0, 0], t=1 [0.375, 0.625, 0], t=2 [0.3125, 0.1875, 0.5].
  it('start at (row 2, position 2): masses by hand', () => {
    const g = computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 } });
    expectAll(blockMasses(g, 2, 3), [0, 0, 1], 0);
    // block 2 at t=2: ffn gets 1·1/5, the attention node 3/4, the residual 1/4 stays at t=2
    expect(node(g, 'ffn:2:2').mass).toBeCloseTo(0.2, 15);
    expect(node(g, 'intermediate:2:2').mass).toBe(1);
    expect(node(g, 'attention:2:2').mass).toBe(0.75);
    const row1 = [0.75 * 0.4375, 0.75 * 0.1875, 0.25 + 0.75 * 0.375];
    expectAll(blockMasses(g, 1, 3), row1, 1e-15);
    // block 1: share_att = [1/3, 1/2, 2/3]
    const row0 = [
      row1[0] * (2 / 3) + row1[0] * (1 / 3) * 1 + row1[1] * (1 / 2) * 0.375 + row1[2] * (2 / 3) * 0.3125,
      row1[1] * (1 / 2) + row1[1] * (1 / 2) * 0.625 + row1[2] * (2 / 3) * 0.1875,
      row1[2] * (1 / 3) + row1[2] * (2 / 3) * 0.5,
    ];
    expectAll(blockMasses(g, 0, 3), row0, 1e-15);
    expect(node(g, 'ffn:1:0').mass).toBeCloseTo(row1[0] / 2, 15);
    expect(node(g, 'attention:1:2').mass).toBeCloseTo(row1[2] * (2 / 3), 15);
    expect(g.rowMass.map((r) => r.row)).toEqual([2, 1, 0]);
    for (const r of g.rowMass) expect(Math.abs(r.mass - 1)).toBeLessThan(1e-12);
  });

  it('hide BOS: key 0 dropped and rows renormalised; no mass reaches position 0', () => {
    const g = computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 }, hideBos: true });
    // block 2, t=2: [0.1875, 0.375] / 0.5625 = [1/3, 2/3]
    const row1 = [0, 0.75 / 3, 0.25 + 0.75 * (2 / 3)];
    expectAll(blockMasses(g, 1, 3), row1, 1e-15);
    // block 1: t=1 → [0, 1, 0]; t=2 → [0, 0.1875, 0.5] / 0.6875 = [0, 3/11, 8/11]
    const row0 = [0, row1[1] * (1 / 2) + row1[1] * (1 / 2) + row1[2] * (2 / 3) * (3 / 11), row1[2] * (1 / 3) + row1[2] * (2 / 3) * (8 / 11)];
    expectAll(blockMasses(g, 0, 3), row0, 1e-15);
    expect(g.nodes.some((n) => n.position === 0)).toBe(false);
    for (const r of g.rowMass) expect(Math.abs(r.mass - 1)).toBeLessThan(1e-12);
  });

  it('links shown: top-1 or weight ≥ 0.3; node masses never change; hidden mass accounted', () => {
    const top1 = computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 } });
    const out = top1.links.filter((l) => l.source === 'attention:2:2');
    expect(out).toEqual([{ source: 'attention:2:2', target: 'block:1:0', value: 0.75 * 0.4375, type: 'attention', weight: 0.4375 }]);
    expect(node(top1, 'attention:2:2').hiddenMass).toBeCloseTo(0.75 * (0.1875 + 0.375), 15);
    const min = computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 }, links: { minWeight: 0.3 } });
    expect(min.links.filter((l) => l.source === 'attention:2:2').map((l) => l.target)).toEqual(['block:1:0', 'block:1:2']);
    expect(min.nodes.map((n) => [n.id, n.mass])).toEqual(top1.nodes.map((n) => [n.id, n.mass]));
    const all = computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 }, links: { minWeight: 0 } });
    expect(all.hiddenLinkMass).toBe(0);
    // Every node's mass equals what its listed links bring in, when all links are listed.
    for (const n of all.nodes.filter((x) => x.layer < 2)) {
      const inflow = all.links.filter((l) => l.target === n.id).reduce((s, l) => s + l.value, 0);
      expect(Math.abs(inflow - n.mass), n.id).toBeLessThan(1e-15);
    }
    // Every link joins listed nodes.
    const ids = new Set(top1.nodes.map((n) => n.id));
    for (const l of top1.links) expect(ids.has(l.source) && ids.has(l.target), `${l.source}→${l.target}`).toBe(true);
  });

  it('generated positions start on the final-norm row with 1/N each; the layer limit stops early', () => {
    const g = computeFlow(tinyHooks(), TINY, { start: { kind: 'generated', positions: [1, 2] }, layers: 1 });
    expect(g.nodes.filter((n) => n.type === 'final').map((n) => [n.id, n.mass])).toEqual([['final:3:1', 0.5], ['final:3:2', 0.5]]);
    expect(g.links.filter((l) => l.type === 'norm').map((l) => [l.target, l.value])).toEqual([['block:2:1', 0.5], ['block:2:2', 0.5]]);
    expect(g.rowMass.map((r) => r.row)).toEqual([2, 1]);
    expect(g.bottom).toBe(1);
    expect(flowHooks(TINY, { start: { kind: 'generated', positions: [1] }, layers: 1 }).every((h) => h.startsWith('blocks.1.'))).toBe(true);
    // block 2 at t=1: share_att 1/4 over [0.625, 0.375, 0]; at t=2 as above
    const row1 = [0.5 * 0.25 * 0.625 + 0.5 * 0.75 * 0.4375, 0.5 * 0.75 + 0.5 * 0.25 * 0.375 + 0.5 * 0.75 * 0.1875, 0.5 * 0.25 + 0.5 * 0.75 * 0.375];
    expectAll(blockMasses(g, 1, 3), row1, 1e-15);
  });

  it('bad options and missing hooks are explained', () => {
    expect(() => computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 4, position: 0 } })).toThrow(/start row must be 0\.\.3/);
    expect(() => computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 3 } })).toThrow(/start position 3 is outside the prompt's positions 0\.\.2/);
    expect(() => computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 0 }, hideBos: true })).toThrow(/first \(BOS\) token/);
    expect(() => computeFlow(tinyHooks(), TINY, { start: { kind: 'cell', row: 2, position: 2 }, links: { topK: 0 } })).toThrow(/top-k must be/);
    const partial = tinyHooks();
    partial.delete('blocks.0.hook_mlp_out');
    expect(() => computeFlow(partial, TINY, { start: { kind: 'cell', row: 2, position: 2 } })).toThrow(/needs the hook blocks\.0\.hook_mlp_out/);
  });
});

/** The recurrence as dense matrices, written independently: flow_{ℓ−1} = Mᵀ flow_ℓ, M = diag(1−s) + diag(s)·Ā. */
function denseRowMasses(hooks: HookMap, L: number, T: number, startPos: number, hideBos: boolean): number[][] {
  const norm = (name: string, t: number) => {
    const { data, dims } = hooks.get(name)!;
    return Math.hypot(...data.subarray(t * dims[1], (t + 1) * dims[1]));
  };
  let flow: number[] = Array.from({ length: T }, (_, t) => (t === startPos ? 1 : 0));
  const rows = [flow];
  for (let l = L - 1; l >= 0; l--) {
    const p = hooks.get(`blocks.${l}.attn.hook_pattern`)!, H = p.dims[0];
    const next = new Array<number>(T).fill(0);
    for (let t = 0; t < T; t++) {
      const s = norm(`blocks.${l}.hook_attn_out`, t) / (norm(`blocks.${l}.hook_resid_pre`, t) + norm(`blocks.${l}.hook_attn_out`, t));
      const a = Array.from({ length: T }, (_, k) => (hideBos && k === 0 && t > 0 ? 0 : [...Array(H).keys()].reduce((acc, h) => acc + p.data[(h * T + t) * T + k], 0)));
      const z = a.reduce((x, y) => x + y, 0);
      for (let k = 0; k < T; k++) next[k] += flow[t] * ((k === t ? 1 - s : 0) + (s * a[k]) / z);
    }
    rows.push((flow = next));
  }
  return rows;
}

describe('flow end to end', () => {
  const stories = parseLlama2cCheckpoint(readStories('stories260K.bin'));
  const ids = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

  for (const hideBos of [false, true]) {
    it(`stories260K${hideBos ? ', BOS hidden' : ''}: conserved row by row (1e-9) and equal to the dense recurrence (1e-12)`, async () => {
      const hooked = new HookedModel(stories, backend);
      const L = stories.config.n_layers, T = ids.length;
      const g = await runFlow(hooked, ids, { start: { kind: 'cell', row: L, position: T - 1 }, hideBos });
      expect(g.rowMass.length).toBe(L + 1);
      for (const r of g.rowMass) expect(Math.abs(r.mass - 1), `row ${r.row}`).toBeLessThan(1e-9);
      const hooks = await hooked.run(ids, flowHooks(stories.config, { start: { kind: 'cell', row: L, position: T - 1 } }));
      const dense = denseRowMasses(hooks, L, T, T - 1, hideBos);
      dense.forEach((expected, i) => expectAll(blockMasses(g, L - i, T), expected, 1e-12));
      expect(g.nodes.every((n) => n.mass > 0 && n.x >= 0 && n.x <= 1 && n.y >= 0 && n.y <= 1)).toBe(true);
      if (hideBos) expect(g.nodes.some((n) => n.position === 0)).toBe(false);
      await hooked.release();
    });
  }

  it('random Mistral-shaped checkpoint past its sliding window: conserved, no link outside the window', async () => {
    const model = randomModel(tinyConfig('mistral'), 11);
    const W = model.config.sliding_window!, L = model.config.n_layers;
    const longIds = Array.from({ length: 40 }, (_, i) => (i * 7919 + 1) % 32000);
    const hooked = new HookedModel(model, backend);
    for (const hideBos of [false, true]) {
      const g = await runFlow(hooked, longIds, { start: { kind: 'generated', positions: [37, 38, 39] }, links: { minWeight: 0 }, hideBos });
      expect(g.rowMass.length).toBe(L + 1);
      for (const r of g.rowMass) expect(Math.abs(r.mass - 1), `row ${r.row}`).toBeLessThan(1e-9);
      for (const l of g.links.filter((x) => x.type === 'attention' && x.weight !== undefined)) {
        const t = Number(l.source.split(':')[2]), s = Number(l.target.split(':')[2]);
        expect(s <= t && s > t - W, `${l.source} → ${l.target}`).toBe(true);
      }
    }
    await hooked.release();
  });
});
