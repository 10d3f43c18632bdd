/**
 * Gradient importance (onnx/backward-graph.ts, analysis/gradient.ts) against an independent
 * oracle: central finite differences of the reference forward pass (reference/forward.ts),
 * perturbing one state through its `add` intervention, one basis vector at a time.
 *
 * Tolerance reasoning. The reference stores every state and the logits as float32, so a
 * finite difference carries rounding noise ≈ ε₃₂·(|L| + Σ‖∂L/∂s‖·|s|)/h per component
 * (ε₃₂ ≈ 6e-8), while a central difference of step h has truncation error O(h²). With the
 * brief's h = 1e-2·‖x‖/√d the noise dominated (relative errors up to 2e-3 measured on
 * stories260K, 1.5e-2 on Gemma, whose logits are ~55). So the step is larger,
 * h = 0.2·‖x‖/√d (a fifth of the state's RMS on one coordinate), and the truncation is
 * removed by Richardson extrapolation, g ≈ (4·D(h) − D(2h))/3 with error O(h⁴). Measured
 * worst ‖g − g_fd‖/‖g_fd‖ over the states below: 4.6e-5 stories260K, 3.5e-5 Mistral,
 * 1.4e-4 Gemma, 2.2e-5 Qwen2 (plain central differences at the same h: up to 1.9e-3), so the
 * 1e-3 bound leaves a ≥ 7× margin and still fails on any wrong rule (a sign or a missing
 * term moves whole components by O(1)). On Gemma the target is a token whose logit is
 * ≈ 0 rather than the argmax (|L| ≈ 55 there), which takes the ε₃₂·|L| term out of the noise
 * and also exercises the explicit-token input.
 *
 * The random models use a 1000-token vocabulary (tinyConfig's 32000 only makes the 256
 * reference runs per state slow; the vocabulary enters the backward pass only through the
 * one W_U row), and Mistral a sliding window of 4 so that 8 tokens cross it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { computeGradientImportance } from '../../src/core/analysis/gradient.ts';
import { type Backend, createSession, type OrtModule } from '../../src/core/engine/runtime.ts';
import type { ExternalDataOptions } from '../../src/core/onnx/graph-builder.ts';
import { isLenspressError } from '../../src/core/errors.ts';
import type { InterventionSite } from '../../src/core/model/interventions.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { buildGradientGraph, GRAD_MID, GRAD_NORM_MID, GRAD_NORM_POST, GRAD_POST } from '../../src/core/onnx/backward-graph.ts';
import { referenceForward } from '../../src/core/reference/forward.ts';
import { openModel } from '../../src/node/open-model.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

const nodeBackend: Backend = { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'onnxruntime-node (cpu)' };

interface Gradients {
  tokenId: number;
  logit: number;
  post: Float32Array; // [L+1, T, d]
  mid: Float32Array; // [L, T, d]
  postNorm: Float32Array; // [L+1, T]
  midNorm: Float32Array; // [L, T]
}

async function graphGradients(m: LoadedModel, ids: number[], position: number, tokenId = -1, externalData?: ExternalDataOptions): Promise<Gradients> {
  const graph = buildGradientGraph(m.config, m.weights, { fullGradients: true, externalData });
  const s = await createSession(nodeBackend, graph);
  const i64 = (v: number[]) => BigInt64Array.from(v.map(BigInt));
  const out = await s.run({
    input_ids: new ort.Tensor('int64', i64(ids), [1, ids.length]),
    target_position: new ort.Tensor('int64', i64([position]), [1]),
    target_token: new ort.Tensor('int64', i64([tokenId]), [1]),
  });
  await s.release();
  const f = (name: string) => out[name].data as Float32Array;
  return { tokenId: Number((out['target.token_id'].data as BigInt64Array)[0]), logit: f('target.logit')[0], post: f(GRAD_POST), mid: f(GRAD_MID), postNorm: f(GRAD_NORM_POST), midNorm: f(GRAD_NORM_MID) };
}

/**
 * ∂L/∂state by central differences with Richardson extrapolation, L = logits[p, tok] of the
 * reference, the state being `site` of `layer` at `position` (the embedding is layer 0's resid_pre).
 */
function finiteDifferences(m: LoadedModel, ids: number[], p: number, tok: number, layer: number, position: number, site: InterventionSite): Float64Array {
  const { config: c, weights: w } = m, d = c.d_model;
  const hookName = `blocks.${layer}.hook_${site}`;
  const state = referenceForward(c, w, ids).hooks.get(hookName)!.subarray(position * d, (position + 1) * d);
  const L = (i: number, step: number) => {
    const vector = new Float32Array(d);
    vector[i] = step;
    return referenceForward(c, w, ids, [{ kind: 'add', layer, position, site, vector }]).logits[p * c.d_vocab + tok];
  };
  let ss = 0;
  for (const v of state) ss += v * v;
  const h = Math.fround((0.2 * Math.sqrt(ss)) / Math.sqrt(d)), h2 = Math.fround(2 * h); // exact in float32, as added
  return Float64Array.from({ length: d }, (_, i) => {
    const D1 = (L(i, h) - L(i, -h)) / (2 * h), D2 = (L(i, h2) - L(i, -h2)) / (2 * h2);
    return (4 * D1 - D2) / 3;
  });
}

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** The gradient row for one state from the graph's full outputs. */
function graphRow(g: Gradients, d: number, T: number, layer: number, position: number, site: InterventionSite): Float32Array {
  const [data, row] = site === 'resid_mid' ? [g.mid, layer] : site === 'resid_pre' ? [g.post, layer] : [g.post, layer + 1];
  return data.subarray((row * T + position) * d, (row * T + position + 1) * d);
}

type Check = [layer: number, position: number, site: InterventionSite];

interface Case {
  name: string;
  model: () => Promise<LoadedModel>;
  /** Target token: the argmax (undefined), or a chooser given the reference logits row. */
  token?: (row: Float32Array) => number;
}

const T = 8, P = 6; // position 7 lies after the target: its gradient must be exactly 0
const ids = (V: number) => Array.from({ length: T }, (_, i) => (i * 7919 + 1) % V);
const closestToZero = (row: Float32Array) => row.reduce((best, v, i) => (Math.abs(v) < Math.abs(row[best]) ? i : best), 0);

const cases: Case[] = [
  // Llama (llama2.c): interleaved RoPE, GQA 8/4, tied
  { name: 'stories260K', model: async () => (await openModel('stories260K')).model },
  // sliding window, GQA 8/2, half RoPE, untied
  { name: 'mistral (window 4)', model: async () => randomModel(tinyConfig('mistral', { d_vocab: 1000, sliding_window: 4 }), 1234) },
  // GELU-tanh, embed scale √d, tied, d_head ≠ d/H, one kv head
  { name: 'gemma', model: async () => randomModel(tinyConfig('gemma', { d_vocab: 1000 }), 1234), token: closestToZero },
  // q/k/v biases, GQA 8/4
  { name: 'qwen2', model: async () => randomModel(tinyConfig('qwen2', { d_vocab: 1000 }), 1234) },
];

describe.each(cases)('$name: gradient graph', ({ model, token }) => {
  it('equals central finite differences of the reference within 1e-3 relative', { timeout: 120_000 }, async () => {
    const m = await model();
    const c = m.config, d = c.d_model, x = ids(c.d_vocab);
    const ref = referenceForward(c, m.weights, x);
    const row = ref.logits.subarray(P * c.d_vocab, (P + 1) * c.d_vocab);
    const tok = token ? token(row) : row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
    const g = await graphGradients(m, x, P, token ? tok : -1);
    expect(g.tokenId).toBe(tok);
    expect(Math.abs(g.logit - row[tok])).toBeLessThan(1e-4 * Math.max(1, Math.abs(row[tok])));

    const checks: Check[] = [
      [0, P, 'resid_post'], // block 1 output at the target: every later block
      [c.n_layers - 1, P, 'resid_mid'], // last MLP and final norm only
      [1, P - 2, 'resid_mid'], // another position: attention backward (keys, values, softmax)
      [0, 2, 'resid_pre'], // the embedding x^(0), through every layer
    ];
    if (c.sliding_window) checks.push([c.n_layers - 2, P - c.sliding_window + 1, 'resid_post']); // the window's oldest key
    for (const [layer, position, site] of checks) {
      const want = finiteDifferences(m, x, P, tok, layer, position, site);
      const got = graphRow(g, d, T, layer, position, site);
      const where = `${site} layer ${layer} position ${position}`;
      expect(Math.hypot(...want), where).toBeGreaterThan(1e-3); // not a vacuous comparison
      expect(relError(got, want), where).toBeLessThan(1e-3);
    }
  });

  it('is exactly 0 after the target position, and outside a sliding window', async () => {
    const m = await model();
    const c = m.config, d = c.d_model, L = c.n_layers;
    const g = await graphGradients(m, ids(c.d_vocab), P);
    const afterTarget = (data: Float32Array, rows: number) => {
      let max = 0;
      for (let r = 0; r < rows; r++) for (let t = P + 1; t < T; t++) for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(data[(r * T + t) * d + i]));
      return max;
    };
    expect(afterTarget(g.post, L + 1)).toBe(0);
    expect(afterTarget(g.mid, L)).toBe(0);
    // Block ℓ's output reaches position P through L−1−ℓ attention layers, each spanning W−1
    // positions back (all of them without a window); the last block's output only at P.
    const W = c.sliding_window;
    for (let l = 0; l < L; l++) {
      const layersLeft = L - 1 - l;
      const first = layersLeft === 0 ? P : W === null ? 0 : Math.max(0, P - layersLeft * (W - 1));
      for (let t = 0; t <= P; t++) {
        const norm = g.postNorm[(l + 1) * T + t];
        if (t < first) expect(norm, `block ${l + 1} position ${t}`).toBe(0);
        else expect(norm, `block ${l + 1} position ${t}`).toBeGreaterThan(0);
      }
    }
    // After the last block's intermediate only its MLP and the final norm at P remain.
    for (let t = 0; t < P; t++) expect(g.midNorm[(L - 1) * T + t]).toBe(0);
    expect(g.midNorm[(L - 1) * T + P]).toBeGreaterThan(0);
  });

  it('its norm outputs are the L2 norms of its gradients, rows in order (embedding first)', async () => {
    const m = await model();
    const c = m.config, d = c.d_model, L = c.n_layers;
    const g = await graphGradients(m, ids(c.d_vocab), P);
    const norm = (a: Float32Array, n: number) => Math.hypot(...a.subarray(n * d, (n + 1) * d));
    for (let n = 0; n < (L + 1) * T; n++) expect(Math.abs(g.postNorm[n] - norm(g.post, n))).toBeLessThan(1e-5 * (1 + g.postNorm[n]));
    for (let n = 0; n < L * T; n++) expect(Math.abs(g.midNorm[n] - norm(g.mid, n))).toBeLessThan(1e-5 * (1 + g.midNorm[n]));
  });
});

describe('the gradient graph with its weights as external data (as a 7B model\'s 29 GB of float32 weights must be)', () => {
  it('gives exactly the gradients of the graph with its weights inside', async () => {
    const m = await cases[1].model();
    const inside = await graphGradients(m, ids(m.config.d_vocab), P);
    const outside = await graphGradients(m, ids(m.config.d_vocab), P, -1, { threshold: 0 });
    expect(buildGradientGraph(m.config, m.weights, { externalData: { threshold: 0 } }).externalData.length).toBeGreaterThan(m.config.n_layers);
    expect(Array.from(outside.post)).toEqual(Array.from(inside.post));
    expect(Array.from(outside.midNorm)).toEqual(Array.from(inside.midNorm));
    expect(outside.logit).toBe(inside.logit);
  });
});

describe('computeGradientImportance', () => {
  it('defaults to the argmax at the last position and returns heatmap rows', async () => {
    const { model } = await openModel('stories260K');
    const x = [1, 274, 287, 381, 261, 352, 266]; // "Tom had a r ed"
    const ref = referenceForward(model.config, model.weights, x);
    const V = model.config.d_vocab, last = x.length - 1;
    const row = ref.logits.subarray(last * V, (last + 1) * V);
    const argmax = row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
    const r = await computeGradientImportance(nodeBackend, model, x);
    expect(r.target.position).toBe(last);
    expect(r.target.tokenId).toBe(argmax);
    expect(r.rows).toEqual(['embed', 'block 1', 'block 2', 'block 3', 'block 4', 'block 5']);
    expect(r.gradNorm.length).toBe(6);
    expect(r.midNorm.length).toBe(5);
    expect(r.gradNorm.every((rw) => rw.length === x.length)).toBe(true);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // plain data

    const other = await computeGradientImportance(nodeBackend, model, x, { position: 3, tokenId: 42 });
    expect(other.target).toMatchObject({ position: 3, tokenId: 42 });
    expect(Math.abs(other.target.logit - ref.logits[3 * V + 42])).toBeLessThan(1e-4);
    expect(other.gradNorm[2].slice(4)).toEqual([0, 0, 0]);
  });

  it('refuses a target outside the prompt or the vocabulary', async () => {
    const { model } = await openModel('stories260K');
    for (const target of [{ position: 3 }, { position: -1 }, { position: 1.5 }, { tokenId: 512 }, { tokenId: -1 }]) {
      const e = await computeGradientImportance(nodeBackend, model, [1, 2, 3], target).catch((err: unknown) => err);
      expect(isLenspressError(e) && e.code === 'bad-target', JSON.stringify(target)).toBe(true);
    }
  });

  it('gives the same norms on onnxruntime-web (wasm) within 1e-4', { timeout: 60_000 }, async () => {
    ortWeb.env.wasm.numThreads = 1; // no worker threads in a test process
    const web: Backend = { ort: ortWeb as unknown as OrtModule, executionProviders: ['wasm'], label: 'WebAssembly (onnxruntime-web)' };
    const models: [LoadedModel, number[]][] = [
      [(await openModel('stories260K')).model, [1, 403, 407, 261, 378, 432, 383, 286]],
      [randomModel(tinyConfig('mistral', { d_vocab: 1000, sliding_window: 4 }), 5), ids(1000)],
      [randomModel(tinyConfig('gemma', { d_vocab: 1000 }), 5), ids(1000)],
    ];
    for (const [m, x] of models) {
      for (const target of [{}, { position: 2, tokenId: 7 }]) {
        const a = await computeGradientImportance(nodeBackend, m, x, target);
        const b = await computeGradientImportance(web, m, x, target);
        expect(b.target.tokenId).toBe(a.target.tokenId);
        const scale = Math.max(1, ...a.gradNorm.flat(), ...a.midNorm.flat());
        const diff = Math.max(...a.gradNorm.flatMap((rw, r) => rw.map((v, t) => Math.abs(v - b.gradNorm[r][t]))), ...a.midNorm.flatMap((rw, r) => rw.map((v, t) => Math.abs(v - b.midNorm[r][t]))));
        expect(diff / scale, `${m.config.arch} ${JSON.stringify(target)}`).toBeLessThan(1e-4);
      }
    }
  });
});

describe('lenspress grad', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), 'grad', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('prints JSON with a resolved target', () => {
    const r = cli(['--model', 'stories260K', '--prompt', 'Tom had a red ball', '--position', '4', '--token-text', 'a', '--json']);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.kind).toBe('gradient-importance');
    expect(j.target).toMatchObject({ position: 4, tokenId: 261 });
    expect(j.targetPiece).toBe('▁a');
    expect(j.gradNorm.length).toBe(6);
    expect(j.gradNorm[0].length).toBe(j.inputIds.length);
    expect(j.gradNorm[3].slice(5).every((v: number) => v === 0)).toBe(true);
  });

  it('prints a table, and refuses bad targets in one line', () => {
    const r = cli(['--prompt', 'Tom had a red ball']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/block 5 mid/);
    for (const [args, message] of [
      [['--prompt', 'Tom', '--position', '9'], /--position must be a whole number from 0 to 2/],
      [['--prompt', 'Tom', '--token-text', 'red'], /--token-text must be exactly one token; "red" is 2/],
      [['--prompt', 'Tom', '--token', '3', '--token-text', 'a'], /not both/],
    ] as const) {
      const bad = cli([...args]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
