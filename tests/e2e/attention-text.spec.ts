/**
 * <AttentionText> in Chromium: the shaded text with JavaScript off; Run in the page giving
 * the weights Node computes for the same props (within 1e-4: float32 activations on wasm vs
 * onnxruntime-node); clicking a token makes it the query; URL state round trip; valid exports.
 */
import type { Page } from '@playwright/test';
import { ATTENTION_TEXT_CSV_HEADER, type AttentionTextFigureData } from '../../src/core/figures/kinds/attention-text.ts';
import { checkExports, figureData, figureProps, nodeFigure, runLive, TRACING_ARTICLE, urlRoundTrip } from './figure-helpers.ts';
import { expect, test } from './fixtures.ts';

const figure = (page: Page) => page.locator('lp-figure[data-kind="attention-text"]').first();

function expectSameRow(live: AttentionTextFigureData, expected: AttentionTextFigureData) {
  const a = live.attention, b = expected.attention;
  expect([a.layer, a.head, a.query]).toEqual([b.layer, b.head, b.query]);
  expect(a.tokens.map((t) => t.id)).toEqual(b.tokens.map((t) => t.id));
  let worst = 0;
  a.tokens.forEach((t, i) => (worst = Math.max(worst, Math.abs(t.weight - b.tokens[i].weight), Math.abs(t.shade - b.tokens[i].shade) / 10)));
  expect(worst).toBeLessThan(1e-4);
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed shaded text is there, the last token marked as the query', async ({ page }) => {
    await page.goto(TRACING_ARTICLE);
    const fig = figure(page);
    const data = await figureData<AttentionTextFigureData>(fig);
    expectSameRow(data, await nodeFigure<AttentionTextFigureData>('attention-text', await figureProps(fig)));
    const T = data.attention.tokens.length;
    await expect(fig.locator('svg g.token')).toHaveCount(T);
    await expect(fig.locator('svg g.token.query')).toHaveAttribute('data-pos', String(T - 1));
    await expect(fig.locator('svg g.token[data-pos="1"] text')).toHaveText('Once');
    await expect(fig.getByRole('button', { name: 'Run' })).toBeDisabled();
  });
});

test('clicking a token makes it the query; Run gives the Node weights', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  await fig.locator('select[name="head"]').selectOption('3');
  await fig.locator('svg g.token[data-pos="9"]').click();
  await expect(fig.locator('[name="query"]')).toHaveValue('9');
  await runLive(fig);
  const live = await figureData<AttentionTextFigureData>(fig);
  expect(live.attention.query).toBe(9);
  expect(live.attention.head).toBe(3);
  expectSameRow(live, await nodeFigure<AttentionTextFigureData>('attention-text', { ...(await figureProps(fig)), head: '3', query: 9 }));
  await expect(fig.locator('svg g.token.query')).toHaveAttribute('data-pos', '9');
  await fig.locator('svg g.token[data-pos="3"]').focus();
  await expect(fig.locator('.lp-details')).toContainText('head 3: position 3');
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores prompt and options; Run computes with them', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const prompt = 'Tom had a <b>red</b> ball & "kite". He';
  const options = { layer: '-1', head: '5', query: '4', threshold: '0.1', scale: 'absolute' };
  const live = await urlRoundTrip<AttentionTextFigureData>(page, () => figure(page), prompt, options);
  expect(live.prompt).toBe(prompt);
  expect([live.attention.layer, live.attention.head, live.attention.query]).toEqual([4, 5, 4]);
  const props = { ...(await figureProps(figure(page))), prompt, layer: -1, head: '5', query: 4, threshold: 0.1, scale: 'absolute' };
  expectSameRow(live, await nodeFigure<AttentionTextFigureData>('attention-text', props));
  expect(await figure(page).locator('b').count()).toBe(0);
  expect(consoleErrors).toEqual([]);
});

test('exports: SVG with every token, PNG, JSON, CSV with a line per token', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const T = (await figureData<AttentionTextFigureData>(fig)).attention.tokens.length;
  await checkExports(page, fig, { selector: 'g.token', count: T, header: ATTENTION_TEXT_CSV_HEADER, rows: T });
  expect(consoleErrors).toEqual([]);
});
