/**
 * The built site's links and generated documentation: every internal link and #anchor on
 * every page reachable from / resolves; the about page documents every registered figure
 * component with one row per schema field; <Value> prints its figure's own number; <Cite>
 * links land on <Bibliography> entries. Static HTML only (JavaScript off): these are facts of
 * the build, and readers without JavaScript follow the same links.
 */
import type { z } from 'zod';
import { test, expect } from './fixtures.ts';
import { FIGURE_COMPONENTS } from '../../src/site/figure-components.ts';
import { BibliographyProps, CiteProps, ValueProps } from '../../src/site/article-props.ts';
import { ArticleFrontmatter } from '../../src/site/frontmatter.ts';
import { describeSchema } from '../../src/site/schema-doc.ts';

test.use({ javaScriptEnabled: false });

/** A path the site serves as an HTML page (Astro builds /x/ as x/index.html). */
const isPage = (pathname: string) => pathname.endsWith('/') || pathname.endsWith('.html') || !/\.[a-z0-9]+$/i.test(pathname);

interface Link {
  from: string;
  to: string;
  path: string;
  fragment: string;
}

test('every internal link and #anchor on every page resolves', async ({ page, request, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const queue = ['/'];
  const status = new Map<string, number>();
  const ids = new Map<string, Set<string>>();
  const links: Link[] = [];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (status.has(path)) continue;
    const response = await page.goto(path);
    status.set(path, response?.status() ?? 0);
    if (!response?.ok()) continue;
    const found = await page.locator('html').evaluate((html) => ({
      ids: [...html.querySelectorAll('[id]')].map((e) => e.id),
      hrefs: [...html.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
    }));
    ids.set(path, new Set(found.ids));
    for (const href of found.hrefs) {
      const url = new URL(href);
      if (url.origin !== origin) continue;
      links.push({ from: path, to: href, path: url.pathname, fragment: decodeURIComponent(url.hash.slice(1)) });
      if (isPage(url.pathname)) {
        if (!status.has(url.pathname)) queue.push(url.pathname);
      } else if (!status.has(url.pathname)) {
        status.set(url.pathname, (await request.get(url.pathname)).status());
      }
    }
  }

  const crawled = [...ids.keys()];
  expect(crawled).toContain('/about/');
  expect(crawled.some((p) => p.startsWith('/articles/')), 'an article was reached from the index').toBe(true);
  expect(crawled.some((p) => p.startsWith('/tags/')), 'a tag page was reached').toBe(true);

  const broken = links
    .filter((l) => status.get(l.path) !== 200 || (l.fragment !== '' && !ids.get(l.path)?.has(l.fragment)))
    .map((l) => `${l.from} → ${l.to} (${status.get(l.path) !== 200 ? `HTTP ${status.get(l.path)}` : `no element with id "${l.fragment}"`})`);
  expect([...new Set(broken)]).toEqual([]);
});

test('the header links every page to the index and the about page', async ({ page }) => {
  await page.goto('/about/');
  const nav = page.getByRole('navigation', { name: 'Site' });
  await expect(nav.getByRole('link', { name: 'About' })).toHaveAttribute('href', '/about/');
  await nav.getByRole('link', { name: 'Articles' }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('link', { name: 'about page' })).toHaveAttribute('href', '/about/');
});

test('the about page documents every registered component with one row per prop', async ({ page }) => {
  await page.goto('/about/');
  const documented: [string, z.ZodTypeAny][] = [
    ...Object.entries(FIGURE_COMPONENTS).map(([name, c]) => [name, c.schema] as [string, z.ZodTypeAny]),
    ['Value', ValueProps],
    ['Cite', CiteProps],
    ['Bibliography', BibliographyProps],
    ['frontmatter', ArticleFrontmatter],
  ];
  for (const [name, schema] of documented) {
    const fields = describeSchema(schema);
    const rows = page.locator(`table[data-component="${name}"] > tbody > tr`);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-prop'))), name).toEqual(fields.map((f) => f.name));
    for (const f of fields) {
      const row = rows.and(page.locator(`[data-prop="${f.name}"]`));
      // Backticks in a description become <code>: compare the text without them.
      await expect(row.locator('td').last(), `${name}.${f.name}`).toHaveText((f.description ?? '').replaceAll('`', ''));
      for (const v of f.values ?? []) await expect(row.locator('td').first().locator('code', { hasText: v }).first()).toBeAttached();
    }
  }
  for (const name of Object.keys(FIGURE_COMPONENTS)) {
    await expect(page.getByRole('heading', { level: 3, name: `<${name}>`, exact: true })).toBeVisible();
  }
});

test('<Value> prints its figure\u2019s own number', async ({ page }) => {
  await page.goto('/about/');
  const value = page.locator('#value-example .lp-value');
  const target = await value.getAttribute('href');
  expect(target).toMatch(/^#lens-[0-9a-f]{8}$/);
  // The figure's data as the page ships it, read the way the Value's path says.
  const data = JSON.parse((await page.locator(`lp-figure${target} script.lp-data`).textContent()) ?? '') as { grid: { cells: { probs: number[] }[][] } };
  const cells = data.grid.cells;
  const top = cells[cells.length - 1][cells[0].length - 1].probs[0];
  expect(Number(await value.getAttribute('data-value'))).toBe(top);
  await expect(value).toHaveText(`${(top * 100).toFixed(1)}%`);
});

test('<Cite> links land on <Bibliography> entries', async ({ page }) => {
  await page.goto('/about/');
  const cites = page.locator('.cite a');
  expect(await cites.count()).toBeGreaterThan(2);
  for (const a of await cites.all()) {
    const href = (await a.getAttribute('href'))!;
    expect(href).toMatch(/^#ref-[a-z0-9-]+$/);
    await expect(page.locator(`.bibliography li${href}`), href).toHaveCount(1);
  }
  await expect(page.locator('.cite').first()).toHaveText('(Belrose et al., 2023)');
  await expect(page.locator('#ref-tuned-lens a')).toHaveAttribute('href', 'https://arxiv.org/abs/2303.08112');
});

test('the about, index and tag pages do not scroll sideways on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/');
  const tagPage = await page.locator('.tag-index a').first().getAttribute('href');
  for (const path of ['/', '/about/', tagPage!]) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});
