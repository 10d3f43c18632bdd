/** The gradient-map renderer and figure helpers, on hand-made data; the figure on stories260K against analysis/gradient.ts. */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { computeGradientImportance, type GradientImportance } from '../../src/core/analysis/gradient.ts';
import { gradientFigure, type GradientFigureData, gradientRows, resolveTokenText } from '../../src/core/figures/gradient-figure.ts';
import { GRADIENT_CSV_HEADER, gradientCsv, gradientKind } from '../../src/core/figures/kinds/gradient.ts';
import { formatNorm, gradientCellTitle, gradientScale, renderGradient } from '../../src/core/render/gradient-svg.ts';
import * as ort from 'onnxruntime-node';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../../src/core/engine/runtime.ts';
import { openModel } from '../../src/node/open-model.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

/** Two blocks, three positions, target at position 1: position 2 and block 2 away from position 1 are exactly 0. */
const G: GradientImportance = {
  rows: ['embed', 'block 1', 'block 2'],
  midRows: ['block 1 mid', 'block 2 mid'],
  gradNorm: [[0.5, 2, 0], [0.25, 1.5, 0], [0, 1, 0]],
  midNorm: [[0.3, 1.8, 0], [0, 1.2, 0]],
  target: { position: 1, tokenId: 14, logit: 7.25 },
  inputIds: [1, 10, 11],
};

export const SMALL_GRADIENT: GradientFigureData = {
  kind: 'gradient',
  prompt: 'Once upon',
  inputIds: G.inputIds,
  pieces: { 1: '<s>', 10: '▁Once', 11: '▁upon', 12: '▁a', 14: '<img/src=x/onerror=alert(1)>' },
  rows: gradientRows(G, 'all'),
  target: { ...G.target, argmax: true },
  predictions: [{ id: 14, p: 0.6 }, { id: 12, p: 0.3 }],
  scale: 'log',
  states: 'all',
  provenance: { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: { target_position: 1 } },
};

describe('gradient-map renderer', () => {
  const doc = staticDocument();
  const svg = renderGradient(SMALL_GRADIENT, { document: doc });

  it('matches the committed SVG snapshots (log, and linear with block outputs only)', () => {
    const blocks: GradientFigureData = { ...SMALL_GRADIENT, rows: gradientRows(G, 'block'), states: 'block', scale: 'linear' };
    for (const [name, out] of [['gradient-small', svg], ['gradient-linear-blocks', renderGradient(blocks, { document: doc })]] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('interleaves rows bottom-up: embed, block 1 mid, block 1, block 2 mid, block 2', () => {
    expect(SMALL_GRADIENT.rows.map((r) => r.label)).toEqual(['embed', 'block 1 mid', 'block 1', 'block 2 mid', 'block 2']);
    expect(gradientRows(G, 'block').map((r) => r.label)).toEqual(['embed', 'block 1', 'block 2']);
    const yOf = (row: number) => Number(svg.querySelector(`g.cell[data-row="${row}"][data-pos="0"]`)!.getAttribute('transform')!.split(',')[1].replace(')', ''));
    expect(yOf(0)).toBeGreaterThan(yOf(4));
    expect(svg.querySelectorAll('g.cell').length).toBe(15);
    expect([...svg.querySelectorAll('g.cell')].every((c) => c.getAttribute('tabindex') === '0')).toBe(true);
  });

  it('fills on a log scale between the smallest and largest non-zero norm; zeros are unfilled and dashed', () => {
    const s = gradientScale([0.25, 2, 0, 1], 'log');
    expect([s.min, s.max]).toEqual([0.25, 2]);
    expect(s.at(0.25)).toBe(0);
    expect(s.at(2)).toBe(1);
    expect(s.at(1)).toBeCloseTo(Math.log(4) / Math.log(8), 12); // log(1/0.25)/log(2/0.25) = 2/3
    expect(s.at(0)).toBeNull();
    expect(gradientScale([0.25, 2], 'linear').at(1)).toBe(0.5);
    const dashed = svg.querySelectorAll('g.cell rect[stroke-dasharray]');
    expect(dashed.length).toBe(SMALL_GRADIENT.rows.flatMap((r) => r.values).filter((x) => x === 0).length);
    const top = svg.querySelector('g.cell[data-row="0"][data-pos="1"] rect')!; // 2.0, the largest
    expect(top.getAttribute('fill-opacity')).toBe('1.000');
  });

  it('marks the target column and token, and renders token strings as text only', () => {
    expect(svg.querySelector('rect.target-column')!.getAttribute('x')).toBe(String(84 + 46 - 1));
    expect(svg.querySelector('g.target')!.textContent).toContain('<img/src=x/onerror=alert(1)>');
    expect(svg.querySelector('img')).toBeNull();
    const reparsed = parseHTML(`<!doctype html><html><body>${svg.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    expect(reparsed.querySelectorAll('g.cell').length).toBe(15);
  });

  it('titles and details give the value, the share of the row maximum, and the target', () => {
    expect(gradientCellTitle(SMALL_GRADIENT, 0, 0)).toBe('embed, position 0 (<s>)\n‖∂L/∂h‖₂ = 0.5000\n25.0% of this row\'s largest\nL = logit of <img/src=x/onerror=alert(1)> at position 1');
    expect(gradientCellTitle(SMALL_GRADIENT, 4, 0)).toContain('0 exactly: no path from this state to the target');
    const cell = svg.querySelector('g.cell[data-row="1"][data-pos="1"] rect')!;
    expect(gradientKind.details!(SMALL_GRADIENT, cell)).toEqual({ title: 'block 1 mid, position 1 (▁Once)', items: ['‖∂L/∂h‖₂ = 1.800', '100% of this row\'s largest', 'L = logit of <img/src=x/onerror=alert(1)> at position 1'] });
    expect(gradientKind.details!(SMALL_GRADIENT, svg.querySelector('g.target text')!)!.items).toEqual(['<img/src=x/onerror=alert(1)> — 60.0%', '▁a — 30.0%']);
  });

  it('formats norms compactly and exports one CSV line per cell', () => {
    expect([0, 2.6, 0.41, 0.037, 1.2e-5, 12345].map(formatNorm)).toEqual(['0', '2.6', '0.41', '0.037', '1.2e-5', '1.2e4']);
    const csv = gradientCsv(SMALL_GRADIENT).trimEnd().split('\r\n');
    expect(csv[0]).toBe(GRADIENT_CSV_HEADER.join(','));
    expect(csv).toHaveLength(1 + 15);
    expect(csv[1]).toBe('0,embed,embed,0,0,<s>,0.5,1,14,<img/src=x/onerror=alert(1)>');
  });
});

describe('gradient figure on stories260K', async () => {
  const m = await openModel('stories260K');
  const ctx = { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' };
  const prompt = 'Tom had a red ball. He liked to';

  it('holds exactly what computeGradientImportance returns, rows interleaved, for the default and a chosen target', async () => {
    const ids = m.tokenizer.encode(prompt, { addBos: true });
    const g = await computeGradientImportance(m.hooked.backend, m.model, ids);
    const data = await gradientFigure(ctx, { prompt, position: -1, token: '', states: 'all', scale: 'log' });
    expect(data.rows.map((r) => r.values)).toEqual([g.gradNorm[0], ...g.midNorm.flatMap((mid, l) => [mid, g.gradNorm[l + 1]])]);
    expect(data.target).toEqual({ ...g.target, argmax: true });
    expect(data.predictions[0].id).toBe(g.target.tokenId); // the argmax target is the top prediction
    const chosen = await gradientFigure(ctx, { prompt, position: 3, token: 'play', states: 'block', scale: 'log' });
    const g3 = await computeGradientImportance(m.hooked.backend, m.model, ids, { position: 3, tokenId: m.tokenizer.encode('play', { addBos: false })[0] });
    expect(chosen.rows.map((r) => r.values)).toEqual(g3.gradNorm);
    expect(chosen.pieces[chosen.target.tokenId]).toBe('▁play');
    expect(chosen.target.argmax).toBe(false);
  });

  it('reads target tokens as one vocabulary piece, and refuses others with a message', () => {
    const t = m.tokenizer;
    expect(t.piece(resolveTokenText(t, 'play'))).toBe('▁play');
    expect(t.piece(resolveTokenText(t, '▁play'))).toBe('▁play');
    expect(t.piece(resolveTokenText(t, '<s>'))).toBe('<s>');
    expect(t.piece(resolveTokenText(t, 'ing'))).toBe('ing'); // encoded "▁" "ing": the lone "▁" is dropped
    expect(t.piece(resolveTokenText(t, 'an'))).toBe('an'); // encoded "▁a" "n": two tokens, but "an" is a piece
    expect(() => resolveTokenText(t, 'ball')).toThrow('the target token "ball" is not one token of the vocabulary: it splits into 2 (▁b all); give one of them');
  });

  it('refuses a target position outside the prompt, counting from either end', async () => {
    await expect(gradientFigure(ctx, { prompt: 'Once upon', position: 9, token: '', states: 'all', scale: 'log' })).rejects.toThrow(/from 0 to 2, or from −3 to −1 .*3 tokens with <s>\); got 9/);
    await expect(gradientFigure(ctx, { prompt: 'Once upon', position: -4, token: '', states: 'all', scale: 'log' })).rejects.toThrow(/got -4/);
    const first = await gradientFigure(ctx, { prompt: 'Once upon', position: -3, token: '', states: 'all', scale: 'log' });
    expect(first.target.position).toBe(0);
  });
});

describe('gradient figure: a backward graph that fails on WebGPU', async () => {
  const m = await openModel('stories260K');
  // A runtime whose "webgpu" refuses the gradient graph (named lenspress-gradient) and runs everything else on the CPU.
  const refused: string[] = [];
  const fake: OrtModule = {
    Tensor: ort.Tensor as unknown as OrtModule['Tensor'],
    InferenceSession: {
      create: (bytes, opts) => {
        const gpu = (opts?.executionProviders as string[] | undefined)?.includes('webgpu');
        if (gpu && Buffer.from(bytes).includes('lenspress-gradient')) {
          refused.push('gradient');
          return Promise.reject(new Error('no kernel for ScatterND on webgpu'));
        }
        return (ort.InferenceSession.create as OrtModule['InferenceSession']['create'])(bytes, { ...opts, executionProviders: ['cpu'] });
      },
    },
  };
  const gpu: Backend = { ort: fake, executionProviders: ['webgpu'], label: 'WebGPU (onnxruntime-web)' };

  it('falls back to WebAssembly for this figure only, says so in the provenance, and gives the same norms', async () => {
    const ctx = { hooked: new HookedModel(m.model, gpu), tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' };
    const props = { prompt: 'Once upon a time', position: -1, token: '', states: 'all' as const, scale: 'log' as const };
    const data = await gradientFigure(ctx, props);
    expect(refused).toEqual(['gradient']);
    expect(data.provenance.backend).toBe('WebAssembly (onnxruntime-web): the gradient graph failed on WebGPU (onnxruntime-web) (no kernel for ScatterND on webgpu)');
    const ref = await gradientFigure({ ...ctx, hooked: m.hooked }, props);
    expect(data.rows).toEqual(ref.rows);
  });
});
