/**
 * <AnalogyExplorer> in Chromium: the static figure without JavaScript; Run in the page giving
 * what Node computes; URL state; a malformed analogy; exports.
 *
 * Tolerance: the analogy code is plain TypeScript in float64 over the same float32 rows in
 * Node and in the page, so answers must be the same tokens in the same order and cosines
 * equal to 1e-12 (a margin for a different summation order, which the code does not have).
 */
import { ANALOGY_CSV_HEADER } from '../../src/core/figures/kinds/analogy.ts';
import type { AnalogyFigureData } from '../../src/core/figures/analogy-figure.ts';
import { expect, test } from './fixtures.ts';
import { checkExports, figure, figureData, figureProps, nodeFigure, runLive, shareAndRestore } from './live-figure.ts';

const ARTICLE = '/articles/gradients-analogies-markov/';
const KIND = 'analogy';

function expectSameAnalogies(live: AnalogyFigureData, expected: AnalogyFigureData) {
  expect(live.query).toEqual(expected.query);
  expect(live.panels.map((p) => p.label)).toEqual(expected.panels.map((p) => p.label));
  live.panels.forEach((p, i) => {
    const e = expected.panels[i];
    for (const section of ['classic', 'averaged'] as const) {
      const a = p[section]?.answers ?? [], b = e[section]?.answers ?? [];
      expect(a.map((x) => x.id), `${p.label} ${section}`).toEqual(b.map((x) => x.id));
      a.forEach((x, j) => expect(Math.abs(x.cos - b[j].cos)).toBeLessThan(1e-12));
    }
    expect(p.score?.averaged.top1).toBe(e.score?.averaged.top1);
    expect(p.score?.averaged.topk).toBe(e.score?.averaged.topk);
    expect(p.score?.classic.topk).toBe(e.score?.classic.topk);
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed analogies are there, with the Node values', async ({ page }) => {
    await page.goto(ARTICLE);
    const data = await figureData<AnalogyFigureData>(page, KIND);
    expectSameAnalogies(data, await nodeFigure<AnalogyFigureData>(KIND, await figureProps(page, KIND)));
    // stories260K is tied: one panel, classic and averaged answers, and the relation's score.
    expect(data.tied).toBe(true);
    const fig = figure(page, KIND);
    await expect(fig.locator('svg g.panel')).toHaveCount(1);
    await expect(fig.locator('svg g.answer')).toHaveCount(2 * data.k);
    await expect(fig.locator('svg g.answer[data-section="classic"][data-rank="0"] .answer-label')).toHaveText(data.panels[0].classic!.answers[0].label);
    await expect(fig.locator('svg g.score')).toContainText('male-female');
    await expect(fig.locator('.lp-provenance')).toContainText('sha256 b0a507e7ad0f');
  });
});

test('Run with the article\'s props gives the Node values', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const props = await figureProps(page, KIND);
  await runLive(page, KIND);
  const live = await figureData<AnalogyFigureData>(page, KIND);
  expectSameAnalogies(live, await nodeFigure<AnalogyFigureData>(KIND, props));
  await expect(figure(page, KIND).locator('.lp-status')).toContainText('computed in your browser');
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores the analogy and options, and Run computes them', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const set = { prompt: 'France:?', relation: 'capital-of', multi: 'mean', k: '3' };
  await shareAndRestore(page, KIND, set);
  await runLive(page, KIND, 'wasm');
  const live = await figureData<AnalogyFigureData>(page, KIND);
  expect(live.query).toEqual({ c: 'France' });
  expect(live.relation).toBe('capital-of');
  expect(live.panels[0].classic).toBeNull();
  expect(live.panels[0].averaged!.answers).toHaveLength(3);
  expectSameAnalogies(live, await nodeFigure<AnalogyFigureData>(KIND, { ...(await figureProps(page, KIND)), ...set, k: 3 }));
  await expect(figure(page, KIND).locator('svg g.answer')).toHaveCount(3);
  expect(consoleErrors).toEqual([]);
});

test('a malformed analogy gets a message that shows the syntax', async ({ page }) => {
  await page.goto(ARTICLE);
  const fig = figure(page, KIND);
  await fig.getByRole('textbox', { name: 'Prompt' }).fill('man king woman');
  await fig.evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'error', { timeout: 90_000 });
  await expect(fig.locator('.lp-status')).toContainText('expected an analogy like "man:king::woman:?"');
  await expect(fig.getByRole('button', { name: 'Run' })).toBeEnabled();
});

test('focusing an answer or the score shows its details', async ({ page }) => {
  await page.goto(ARTICLE);
  const data = await figureData<AnalogyFigureData>(page, KIND);
  const details = figure(page, KIND).locator('.lp-details');
  await figure(page, KIND).locator('g.answer[data-section="averaged"][data-rank="0"]').focus();
  await expect(details).toContainText(`cosine ${data.panels[0].averaged!.answers[0].cos.toFixed(4)}`);
  await figure(page, KIND).locator('g.score').focus();
  await expect(details.locator('li')).toHaveCount(data.panels[0].score!.averaged.details.length);
});

test('exports: SVG, PNG, JSON and CSV (one line per answer)', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const data = await figureData<AnalogyFigureData>(page, KIND);
  const csv = await checkExports(page, KIND, ANALOGY_CSV_HEADER);
  const p = data.panels[0];
  expect(csv.length).toBe(1 + p.classic!.answers.length + p.averaged!.answers.length + p.score!.averaged.details.reduce((n, d) => n + d.answers.length, 0));
  expect(consoleErrors).toEqual([]);
});
