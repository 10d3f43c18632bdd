/**
 * Every article in content/ (drafts excepted) in Chromium: the index links to it; its page
 * renders the title, at least one figure and KaTeX math without console errors; and every live
 * figure on the page runs in the browser on the default model — Run pressed once per figure,
 * on WebAssembly (deterministic and available everywhere), waiting for data-state="live".
 * The figures' numbers are compared with Node in each figure's own spec; here the point is
 * that no figure an author placed in an article fails to run.
 *
 * Articles are found from content/*.mdx, so a new article is covered without editing this file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator } from '@playwright/test';
import type { FigureData } from '../../src/core/figures/figure-kind.ts';
import { expect, test } from './fixtures.ts';

const CONTENT = path.resolve('content');

interface ArticleEntry {
  slug: string;
  title: string;
}

/** The frontmatter's title (quoted or not) and draft flag: enough YAML for our own articles. */
function readArticle(file: string): ArticleEntry | null {
  const text = readFileSync(path.join(CONTENT, file), 'utf8');
  const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1];
  if (!front) throw new Error(`${file}: no frontmatter`);
  if (/^draft:\s*true\s*$/m.test(front)) return null;
  const raw = /^title:\s*(.+)$/m.exec(front)?.[1].trim();
  if (!raw) throw new Error(`${file}: no title in the frontmatter`);
  const title = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.startsWith("'") ? raw.slice(1, -1).replace(/''/g, "'") : raw;
  return { slug: file.replace(/\.mdx$/, ''), title };
}

const ARTICLES: ArticleEntry[] = readdirSync(CONTENT)
  .filter((f) => f.endsWith('.mdx'))
  .sort()
  .map(readArticle)
  .filter((a): a is ArticleEntry => a !== null);

/** Presses Run on WebAssembly and waits for the live figure; fails with the figure's status line. */
async function runOnWasm(fig: Locator): Promise<FigureData> {
  await fig.scrollIntoViewIfNeeded();
  await fig.evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', /^(live|error)$/, { timeout: 90_000 });
  const state = await fig.getAttribute('data-state');
  expect(state, `${await fig.getAttribute('id')}: ${await fig.locator('.lp-status').textContent()}`).toBe('live');
  return JSON.parse((await fig.locator('script.lp-data').textContent())!) as FigureData;
}

test('content/ holds articles, and the index links to each of them', async ({ page, consoleErrors }) => {
  expect(ARTICLES.length).toBeGreaterThan(0);
  await page.goto('/');
  for (const a of ARTICLES) await expect(page.locator(`a[href$="/articles/${a.slug}/"]`), a.slug).toHaveText(a.title);
  expect(consoleErrors).toEqual([]);
});

test('no article page scrolls sideways on a phone (wide figures, tables and formulas scroll in place)', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  const overflowing: string[] = [];
  for (const a of ARTICLES) {
    await page.goto(`/articles/${a.slug}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) overflowing.push(`${a.slug} (${overflow}px)`);
  }
  expect(overflowing).toEqual([]);
});

for (const article of ARTICLES) {
  test(`${article.slug}: renders, and every live figure runs on WebAssembly`, async ({ page, consoleErrors }) => {
    await page.goto(`/articles/${article.slug}/`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(article.title);
    await expect(page.locator('.katex').first()).toBeVisible();

    const figures = page.locator('lp-figure');
    const count = await figures.count();
    expect(count, 'figures on the page').toBeGreaterThan(0);
    // One Run per figure, one after another (the page's figures share one Worker).
    test.setTimeout(60_000 + count * 45_000);
    for (let i = 0; i < count; i++) {
      const fig = figures.nth(i);
      const built = JSON.parse((await fig.locator('script.lp-data').textContent())!) as FigureData;
      const live = await runOnWasm(fig);
      expect(live.kind).toBe(built.kind);
      expect(live.prompt).toBe(built.prompt);
      expect(live.provenance.model.name).toBe('stories260K');
      // ONNX Runtime Web's wasm backend, or plain TypeScript for figures that need no model run (analogies).
      expect(live.provenance.backend).toMatch(/WebAssembly|no ONNX Runtime/);
      await expect(fig.locator('.figure-frame svg').first()).toBeVisible();
    }
    expect(consoleErrors).toEqual([]);
  });
}
