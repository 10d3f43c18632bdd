/**
 * <MarkovProbe> in Chromium: the static figure without JavaScript; Run in the page (the
 * Worker loads the corpus chunk, tokenizes it and runs the probe graph on WebGPU here) giving
 * what Node computes; URL state; exports.
 *
 * Tolerance: bigram counts are exact (the same tokenizer ids in Node and the page, checked by
 * equal P lists); Q comes from a float32 MatMul + LogSoftmax on different runtimes, so Q's
 * top-k ids must match and probabilities agree within 1e-5, the aggregate means within 1e-4
 * (ranks are counts of strictly larger Q: a near tie could move one, which 1e-4 on a mean over
 * ~200 sources would not hide, so a failure here means a real difference).
 */
import { MARKOV_CSV_HEADER } from '../../src/core/figures/kinds/markov.ts';
import type { MarkovFigureData } from '../../src/core/figures/markov-figure.ts';
import { expect, test } from './fixtures.ts';
import { checkExports, figure, figureData, figureProps, nodeFigure, runLive, shareAndRestore } from './live-figure.ts';

const ARTICLE = '/articles/gradients-analogies-markov/';
const KIND = 'markov';

function expectSameProbe(live: MarkovFigureData, expected: MarkovFigureData): number {
  expect(live.corpus).toEqual(expected.corpus);
  expect(live.rows.map((r) => [r.x, r.count])).toEqual(expected.rows.map((r) => [r.x, r.count]));
  let worst = 0;
  live.rows.forEach((r, i) => {
    const e = expected.rows[i];
    expect(r.pTop).toEqual(e.pTop);
    expect(r.qTop.map((t) => t.id), `Q top-k of source ${r.x}`).toEqual(e.qTop.map((t) => t.id));
    r.qTop.forEach((t, j) => (worst = Math.max(worst, Math.abs(t.q - e.qTop[j].q))));
    expect(r.rankInQ).toBe(e.rankInQ);
  });
  expect(worst).toBeLessThan(1e-5);
  const a = live.aggregate, b = expected.aggregate;
  expect(a.evaluated).toBe(b.evaluated);
  for (const key of ['topkAgreement', 'top1Agreement', 'spearman', 'kl', 'jaccard'] as const) expect(Math.abs(a.means[key] - b.means[key]), key).toBeLessThan(1e-4);
  expect(Math.abs(a.identity.evaluated.argmaxIsSelf - b.identity.evaluated.argmaxIsSelf)).toBeLessThan(1e-4);
  return worst;
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed probe is there, with the Node values and the aggregates in the caption', async ({ page }) => {
    await page.goto(ARTICLE);
    const data = await figureData<MarkovFigureData>(page, KIND);
    expectSameProbe(data, await nodeFigure<MarkovFigureData>(KIND, await figureProps(page, KIND)));
    const fig = figure(page, KIND);
    await expect(fig.locator('svg g.row')).toHaveCount(data.rows.length);
    expect(data.rows[0].x).toBe(1); // the prompt's tokens start with <s>
    const captions = fig.locator('svg text.caption');
    await expect(captions.nth(2)).toContainText(`top-${data.k} agreement`);
    await expect(captions.nth(2)).toContainText('unigram');
    await expect(fig.locator('svg')).toContainText('Spearman');
    await expect(fig.locator('svg')).toContainText('KL(P‖Q_ε)');
    await expect(fig.locator('svg')).toContainText('Jaccard');
    await expect(fig.locator('svg')).toContainText('identity: argmax Q(·|x) = x');
    await expect(fig.locator('.lp-provenance')).toContainText('corpus=content/data/stories260K-corpus.json');
  });
});

test('Run with the article\'s props (WebGPU) gives the Node values', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const props = await figureProps(page, KIND);
  await runLive(page, KIND);
  const live = await figureData<MarkovFigureData>(page, KIND);
  expect(live.provenance.backend).toMatch(/^WebGPU/);
  const worst = expectSameProbe(live, await nodeFigure<MarkovFigureData>(KIND, props));
  console.log(`markov on ${live.provenance.backend}: worst |ΔQ| = ${worst.toExponential(2)}`);
  await expect(figure(page, KIND).locator('.lp-status')).toContainText('computed in your browser');
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores the options, and Run computes them', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const set = { sources: 'frequent', norm: 'model', k: '3' };
  await shareAndRestore(page, KIND, set);
  await runLive(page, KIND, 'wasm');
  const live = await figureData<MarkovFigureData>(page, KIND);
  expect(live.sources).toBe('frequent');
  expect(live.k).toBe(3);
  expect(live.rows.every((r) => r.qTop.length === 3)).toBe(true);
  // The most frequent sources, in order.
  expect(live.rows.map((r) => r.count)).toEqual([...live.rows.map((r) => r.count)].sort((a, b) => b - a));
  expectSameProbe(live, await nodeFigure<MarkovFigureData>(KIND, { ...(await figureProps(page, KIND)), ...set, k: 3 }));
  expect(consoleErrors).toEqual([]);
});

test('focusing a row lists both distributions', async ({ page }) => {
  await page.goto(ARTICLE);
  const data = await figureData<MarkovFigureData>(page, KIND);
  await figure(page, KIND).locator('g.row[data-row="1"]').focus();
  const details = figure(page, KIND).locator('.lp-details');
  await expect(details).toContainText(`c(x) = ${data.rows[1].count}`);
  await expect(details.locator('li').first()).toContainText('bigram P(y|x)');
  await expect(details.locator('li').nth(1)).toContainText('probe Q(y|x)');
});

test('exports: SVG, PNG, JSON and CSV (one line per listed token)', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const data = await figureData<MarkovFigureData>(page, KIND);
  const csv = await checkExports(page, KIND, MARKOV_CSV_HEADER);
  expect(csv.length).toBe(1 + data.rows.reduce((n, r) => n + r.pTop.length + r.qTop.length, 0));
  expect(consoleErrors).toEqual([]);
});
