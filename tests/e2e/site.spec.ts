import { test, expect } from './fixtures.ts';

const ARTICLE_TITLE = 'Reading a tiny model layer by layer';
const ARTICLE_PATH = '/articles/reading-a-tiny-model/';

test('the index lists the article and links to it', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page).toHaveTitle('Lenspress');
  await expect(page.getByRole('link', { name: 'Lenspress' })).toBeVisible();
  await page.getByRole('link', { name: ARTICLE_TITLE }).click();
  await expect(page).toHaveURL(ARTICLE_PATH);
  await expect(page.getByRole('heading', { level: 1, name: ARTICLE_TITLE })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('the article renders its math with KaTeX, from the site itself', async ({ page, consoleErrors, requests, baseURL }) => {
  await page.goto(ARTICLE_PATH);
  await expect(page.locator('.katex-display').first()).toBeVisible();
  expect(await page.locator('.katex').count()).toBeGreaterThan(10);
  // The stylesheet and fonts were bundled: KaTeX's main font is loaded, not a fallback.
  // (document.fonts.check() would also say true when no @font-face matched at all.)
  const fontLoaded = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'KaTeX_Main' && f.status === 'loaded');
  });
  expect(fontLoaded).toBe(true);
  const foreign = requests.filter((url) => !url.startsWith(`${baseURL}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
  expect(foreign, 'requests to other origins').toEqual([]);
  expect(consoleErrors).toEqual([]);
});

for (const width of [375, 1280]) {
  test(`the article page does not scroll sideways at ${width}px (wide figures scroll in their frame)`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(ARTICLE_PATH);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the article text and math are still there', async ({ page }) => {
    await page.goto(ARTICLE_PATH);
    await expect(page.getByRole('heading', { level: 1, name: ARTICLE_TITLE })).toBeVisible();
    await expect(page.getByText('The model: small on purpose')).toBeVisible();
    await expect(page.locator('.katex-display').first()).toBeVisible();
    // KaTeX keeps a MathML copy for assistive technology: the formula is in the HTML itself.
    await expect(page.locator('.katex-mathml annotation').first()).toHaveText(/./);
  });
});

test('every page carries a Content Security Policy that keeps everything on the site', async ({ page }) => {
  for (const path of ['/', '/articles/reading-a-tiny-model/', '/diagnostics/']) {
    await page.goto(path);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp, path).toContain("default-src 'self'");
    expect(csp, path).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp, path).not.toMatch(/\s'unsafe-eval'/);
    // The only other origins: the Hugging Face hub and its file hosts, for models a reader picks (connect-src only).
    expect(csp, path).toContain("connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co;");
    expect(csp!.replace("connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co;", ''), path).not.toMatch(/https?:/);
  }
});

test.describe('dark mode', () => {
  test.use({ colorScheme: 'dark' });
  test('figure labels take the page text colour (readable on the dark background)', async ({ page }) => {
    await page.goto('/articles/reading-a-tiny-model/');
    const label = page.locator('lp-figure svg text.row-label').first();
    const [fill, bg] = await label.evaluate((el) => [getComputedStyle(el).fill, getComputedStyle(document.body).backgroundColor]);
    expect(fill).not.toBe('rgb(0, 0, 0)');
    expect(fill).not.toBe(bg);
  });
});
