/**
 * <HeadContributions> in Chromium: the static scatter, correlations and tables with
 * JavaScript off; Run in the page giving what Node computes for the same props (norms and
 * cosines within 1e-4, correlation coefficients within 1e-3: float32 activations on
 * wasm vs onnxruntime-node); details on focus; URL state round trip; valid exports.
 */
import type { Page } from '@playwright/test';
import { HEADS_CSV_HEADER, type HeadsFigureData } from '../../src/core/figures/kinds/heads.ts';
import { checkExports, figureData, figureProps, nodeFigure, runLive, TRACING_ARTICLE, urlRoundTrip } from './figure-helpers.ts';
import { expect, test } from './fixtures.ts';

const figure = (page: Page) => page.locator('lp-figure[data-kind="heads"]').first();

function expectSameHeads(live: HeadsFigureData, expected: HeadsFigureData) {
  const a = live.heads, b = expected.heads;
  expect(a.chosen).toEqual(b.chosen);
  expect([a.nLayers, a.nHeads, a.positions]).toEqual([b.nLayers, b.nHeads, b.positions]);
  let worst = 0;
  a.norm.forEach((layer, l) => layer.forEach((row, t) => row.forEach((v, h) => (worst = Math.max(worst, Math.abs(v - b.norm[l][t][h]), Math.abs(a.cosine[l][t][h] - b.cosine[l][t][h]))))));
  expect(worst).toBeLessThan(1e-4);
  for (const k of ['pearson', 'spearman', 'kendall'] as const) {
    expect(a.correlation[k].n).toBe(b.correlation[k].n);
    expect(Math.abs(a.correlation[k].statistic - b.correlation[k].statistic), k).toBeLessThan(1e-3);
  }
  // Ranks may swap between near-equal heads; the values at each rank may not differ.
  a.top.byNorm.forEach((r, i) => expect(Math.abs(r.norm - b.top.byNorm[i].norm)).toBeLessThan(1e-4));
  a.top.byCosine.forEach((r, i) => expect(Math.abs(r.cosine - b.top.byCosine[i].cosine)).toBeLessThan(1e-4));
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed scatter, its correlations and the top-k tables are there', async ({ page }) => {
    await page.goto(TRACING_ARTICLE);
    const fig = figure(page);
    const data = await figureData<HeadsFigureData>(fig);
    expectSameHeads(data, await nodeFigure<HeadsFigureData>('heads', await figureProps(fig)));
    const T = data.tokens.length;
    await expect(fig.locator('svg circle.point')).toHaveCount(5 * 8 * T);
    await expect(fig.locator('svg text.caption').nth(1)).toContainText(`Pearson r = ${data.heads.correlation.pearson.statistic.toFixed(3)}`);
    await expect(fig.locator('svg text.caption').nth(2)).toContainText('Kendall τ-b');
    await expect(fig.locator('svg g.head-row')).toHaveCount(2 * 5);
    await expect(fig.getByRole('button', { name: 'Run' })).toBeDisabled();
  });
});

test('Run with the figure’s own props gives the Node values; focus shows a head’s details', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const props = await figureProps(fig);
  await runLive(fig);
  const live = await figureData<HeadsFigureData>(fig);
  expect(live.provenance.backend).toContain('WebAssembly');
  expectSameHeads(live, await nodeFigure<HeadsFigureData>('heads', props));
  const top = live.heads.top.byNorm[0];
  await fig.locator('g.head-row[data-table="byNorm"]').first().focus();
  await expect(fig.locator('.lp-details')).toContainText(`layer ${top.layer} head ${top.head} (#1 by norm`);
  await expect(fig.locator('.lp-details li')).toHaveCount(live.heads.chosen.length);
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores prompt and options; Run computes with them', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const prompt = 'Tom had a <b>red</b> ball & "kite". He';
  const live = await urlRoundTrip<HeadsFigureData>(page, () => figure(page), prompt, { positions: 'last', count: '4', topK: '3' });
  expect(live.prompt).toBe(prompt);
  expect(live.heads.chosen.length).toBe(4);
  expect(live.heads.top.byCosine.length).toBe(3);
  expectSameHeads(live, await nodeFigure<HeadsFigureData>('heads', { ...(await figureProps(figure(page))), prompt, positions: 'last', count: 4, topK: 3 }));
  await expect(figure(page).locator('svg circle.point')).toHaveCount(5 * 8 * 4);
  expect(await figure(page).locator('b').count()).toBe(0);
  expect(consoleErrors).toEqual([]);
});

test('exports: SVG with every dot and the tables, PNG, JSON, CSV with a line per (layer, head, position)', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const data = await figureData<HeadsFigureData>(fig);
  const T = data.tokens.length;
  await checkExports(page, fig, { selector: 'circle.point', count: 5 * 8 * T, header: HEADS_CSV_HEADER, rows: 5 * 8 * T });
  expect(consoleErrors).toEqual([]);
});
