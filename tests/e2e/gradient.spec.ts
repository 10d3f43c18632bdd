/**
 * <GradientMap> in Chromium: the static figure without JavaScript; Run in the page on WebGPU
 * (SwiftShader here) and on WebAssembly giving the gradient norms Node computes; URL state;
 * exports.
 *
 * Tolerance: every ‖∂L/∂h‖₂ within 1e-3 relative to the figure's largest norm, and the same
 * target token and logit within 1e-3. The backward graph is float32 throughout, and the
 * runtimes sum in different orders (WebGPU shaders, wasm SIMD, Node's MLAS); the measured
 * worst difference is printed by the test (on this machine about 1e-6 relative).
 */
import type { Page } from '@playwright/test';
import { GRADIENT_CSV_HEADER } from '../../src/core/figures/kinds/gradient.ts';
import type { GradientFigureData } from '../../src/core/figures/gradient-figure.ts';
import { expect, test } from './fixtures.ts';
import { checkExports, figure, figureData, figureProps, nodeFigure, runLive, shareAndRestore } from './live-figure.ts';

const ARTICLE = '/articles/gradients-analogies-markov/';
const KIND = 'gradient';

function expectSameGradients(live: GradientFigureData, expected: GradientFigureData): number {
  expect(live.inputIds).toEqual(expected.inputIds);
  expect(live.target.position).toBe(expected.target.position);
  expect(live.target.tokenId).toBe(expected.target.tokenId);
  expect(Math.abs(live.target.logit - expected.target.logit)).toBeLessThan(1e-3);
  expect(live.rows.map((r) => r.label)).toEqual(expected.rows.map((r) => r.label));
  const scale = Math.max(...expected.rows.flatMap((r) => r.values));
  let worst = 0;
  live.rows.forEach((r, i) => r.values.forEach((x, t) => (worst = Math.max(worst, Math.abs(x - expected.rows[i].values[t]) / scale))));
  expect(worst).toBeLessThan(1e-3);
  // Exact zeros (no path to the target) stay exact.
  live.rows.forEach((r, i) => r.values.forEach((x, t) => expected.rows[i].values[t] === 0 && expect(x).toBe(0)));
  return worst;
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed gradient map is there, with the Node values', async ({ page }) => {
    await page.goto(ARTICLE);
    const data = await figureData<GradientFigureData>(page, KIND);
    const expected = await nodeFigure<GradientFigureData>(KIND, await figureProps(page, KIND));
    expectSameGradients(data, expected);
    const T = data.inputIds.length;
    expect(data.rows.length).toBe(11); // embed + 5 × (mid, block)
    await expect(figure(page, KIND).locator('svg g.cell')).toHaveCount(11 * T);
    await expect(figure(page, KIND).locator('svg g.target')).toContainText(expected.pieces[expected.target.tokenId]);
    await expect(figure(page, KIND).locator('svg g.cell[data-row="0"][data-pos="0"] title')).toContainText('‖∂L/∂h‖₂');
    await expect(figure(page, KIND).locator('.lp-provenance')).toContainText('sha256 b0a507e7ad0f');
    await expect(figure(page, KIND).getByRole('button', { name: 'Run' })).toBeDisabled();
  });
});

async function runAndCompare(page: Page, backend: 'auto' | 'wasm', label: RegExp) {
  await page.goto(ARTICLE);
  const props = await figureProps(page, KIND);
  await runLive(page, KIND, backend);
  const live = await figureData<GradientFigureData>(page, KIND);
  expect(live.provenance.backend).toMatch(label);
  const worst = expectSameGradients(live, await nodeFigure<GradientFigureData>(KIND, props));
  console.log(`gradient on ${live.provenance.backend}: worst |Δ|/max = ${worst.toExponential(2)}`);
  await expect(figure(page, KIND).locator('svg g.cell')).toHaveCount(live.rows.length * live.inputIds.length);
  await expect(figure(page, KIND).locator('.lp-status')).toContainText('computed in your browser');
}

test('Run with the article\'s props on WebGPU gives the Node gradients', async ({ page, consoleErrors }) => {
  await runAndCompare(page, 'auto', /^WebGPU/);
  expect(consoleErrors).toEqual([]);
});

test('Run on WebAssembly gives the Node gradients too', async ({ page, consoleErrors }) => {
  await runAndCompare(page, 'wasm', /^WebAssembly/);
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores the target, and Run computes it', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const set = { prompt: 'Tom had a red ball. He liked to', position: '-3', token: 'play', states: 'block', scale: 'linear' };
  await shareAndRestore(page, KIND, set);
  await runLive(page, KIND, 'wasm');
  const live = await figureData<GradientFigureData>(page, KIND);
  expect(live.prompt).toBe(set.prompt);
  expect(live.target.position).toBe(live.inputIds.length - 3); // 14 tokens with <s>: position 11
  expect(live.pieces[live.target.tokenId]).toBe('▁play');
  expect(live.target.argmax).toBe(false);
  expect(live.rows.map((r) => r.label)).toEqual(['embed', 'block 1', 'block 2', 'block 3', 'block 4', 'block 5']);
  await expect(figure(page, KIND).locator('svg')).toHaveAttribute('data-scale', 'linear');
  expectSameGradients(live, await nodeFigure<GradientFigureData>(KIND, { ...(await figureProps(page, KIND)), ...set, position: -3 }));
  expect(consoleErrors).toEqual([]);
});

test('a target token that is not one token gets a message, and the page stays usable', async ({ page }) => {
  await page.goto(ARTICLE);
  const fig = figure(page, KIND);
  await fig.locator('[name="token"]').fill('xylophone');
  await fig.evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'error', { timeout: 90_000 });
  await expect(fig.locator('.lp-status')).toContainText('is not one token of the vocabulary');
  await expect(fig.getByRole('button', { name: 'Run' })).toBeEnabled();
});

test('focusing a cell or the target shows its details', async ({ page }) => {
  await page.goto(ARTICLE);
  const data = await figureData<GradientFigureData>(page, KIND);
  const details = figure(page, KIND).locator('.lp-details');
  await figure(page, KIND).locator('g.cell[data-row="2"][data-pos="1"]').focus();
  await expect(details).toContainText(`${data.rows[2].label}, position 1`);
  await expect(details.locator('li').first()).toContainText('‖∂L/∂h‖₂ =');
  await figure(page, KIND).locator('g.target').focus();
  await expect(details.locator('li')).toHaveCount(data.predictions.length);
});

test('exports: SVG, PNG, JSON and CSV (one line per cell)', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const data = await figureData<GradientFigureData>(page, KIND);
  const csv = await checkExports(page, KIND, GRADIENT_CSV_HEADER);
  expect(csv.length).toBe(1 + data.rows.length * data.inputIds.length);
  expect(consoleErrors).toEqual([]);
});

for (const width of [375, 1280]) {
  test(`the article with the three figures does not scroll sideways at ${width}px (wide figures scroll in their frame)`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(ARTICLE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
}
