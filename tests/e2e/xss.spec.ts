/**
 * Token strings and prompts are rendered as text everywhere: markup arriving from a URL, from
 * a precomputed figure file, or from a model's vocabulary never becomes an element and never
 * runs.
 */
import { expect, test } from './fixtures.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const PAYLOAD = '<img src=x onerror="window.__xss=1">';
/** Without spaces: the figures show a space inside a token piece as \x20. */
const PIECE = '<img/src=x/onerror=window.__xss=1>';

test('a prompt from a shared link is text: tokens, figure and details never execute it', async ({ page, consoleErrors }) => {
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.goto(ARTICLE);
  const fig = page.locator('lp-figure[data-kind="logit-lens"]').first();
  const id = await fig.getAttribute('id');
  await page.goto(`${ARTICLE}?lp.${id}.prompt=${encodeURIComponent(`${PAYLOAD} <script>window.__xss=2</script>`)}`);
  await expect(fig.getByRole('textbox', { name: 'Prompt' })).toHaveValue(/<img src=x/);
  await fig.evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  await fig.locator('g.cell').nth(3).hover();
  await fig.locator('g.cell').nth(5).focus();
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(await fig.locator('img, script:not([type="application/json"])').count()).toBe(0);
  expect(dialogs).toBe(0);
  expect(consoleErrors).toEqual([]);
});

test('a token string with markup in a precomputed figure file stays text', async ({ page }) => {
  // Serve the article with a figure whose data names a token "<img …>" (as a model's
  // vocabulary could): the static SVG, the details panel and the exports treat it as text.
  await page.route(`**${ARTICLE}`, async (route) => {
    const res = await route.fetch();
    let html = await res.text();
    html = html.replace(/(<script type="application\/json" class="lp-data">)(.*?)(<\/script>)/s, (_m, a: string, json: string, c: string) => {
      const data = JSON.parse(json);
      const id = data.grid.cells[2][1].ids[0];
      data.grid.pieces[id] = PIECE;
      return a + JSON.stringify(data).replace(/</g, '\\u003c') + c;
    });
    await route.fulfill({ response: res, body: html });
  });
  await page.goto(ARTICLE);
  const fig = page.locator('lp-figure[data-kind="logit-lens"]').first();
  await fig.locator('g.cell[data-row="2"][data-pos="1"]').focus();
  await expect(fig.locator('.lp-details')).toContainText('<img/src=x');
  expect(await fig.locator('.lp-details img').count()).toBe(0);
  const [dl] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: 'CSV', exact: true }).click()]);
  expect(dl.suggestedFilename()).toMatch(/\.csv$/);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
});
