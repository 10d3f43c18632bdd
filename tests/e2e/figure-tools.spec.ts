/** Share and export: URL state round trip; SVG, PNG, JSON and CSV files are valid. */
import { readFile } from 'node:fs/promises';
import type { Download, Page } from '@playwright/test';
import { parseHTML } from 'linkedom';
import { LOGIT_LENS_CSV_HEADER } from '../../src/core/figures/logit-lens-csv.ts';
import { expect, test } from './fixtures.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const figure = (page: Page) => page.locator('lp-figure[data-kind="logit-lens"]').first();

async function exported(page: Page, label: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), figure(page).getByRole('button', { name: label, exact: true }).click()]);
  return { name: (dl as Download).suggestedFilename(), bytes: await readFile((await dl.path())!) };
}

test('exports: SVG parses, PNG decodes, JSON is the figure data, CSV has the header and every row', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const data = JSON.parse((await figure(page).locator('script.lp-data').textContent())!);
  const T = data.grid.inputIds.length, rows = data.grid.cells.length, k = data.grid.cells[0][0].ids.length;

  const svg = await exported(page, 'SVG');
  expect(svg.name).toMatch(/^lens-[0-9a-f]{8}-stories260K\.svg$/);
  const doc = parseHTML(svg.bytes.toString('utf8')).document;
  expect(doc.querySelectorAll('g.cell').length).toBe(rows * T);
  const valid = await page.evaluate((text) => new DOMParser().parseFromString(text, 'image/svg+xml').querySelector('parsererror') === null, svg.bytes.toString('utf8'));
  expect(valid).toBe(true);

  const png = await exported(page, 'PNG');
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const size = await page.evaluate(async (bytes) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    return [bmp.width, bmp.height];
  }, [...png.bytes]);
  const box = await figure(page).locator('.figure-frame svg').evaluate((s) => [(s as SVGSVGElement).width.baseVal.value, (s as SVGSVGElement).height.baseVal.value]);
  expect(size).toEqual([Math.ceil(box[0] * 2), Math.ceil(box[1] * 2)]);

  const json = JSON.parse((await exported(page, 'JSON')).bytes.toString('utf8'));
  expect(json).toEqual(data);

  const csv = (await exported(page, 'CSV')).bytes.toString('utf8').trimEnd().split('\r\n');
  expect(csv[0]).toBe(LOGIT_LENS_CSV_HEADER.join(','));
  expect(csv.length).toBe(1 + rows * T * k);
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores the prompt and offers to run it', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const id = await figure(page).getAttribute('id');
  const prompt = 'The cat sat on the <b>mat</b> & "rug"';
  await figure(page).getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await figure(page).getByRole('button', { name: 'Copy link' }).click();
  const link = page.url();
  expect(new URL(link).searchParams.get(`lp.${id}.prompt`)).toBe(prompt);

  await page.goto('about:blank');
  await page.goto(link);
  await expect(figure(page).getByRole('textbox', { name: 'Prompt' })).toHaveValue(prompt);
  await expect(figure(page)).toHaveAttribute('data-state', 'restored');
  await expect(figure(page).locator('.lp-status')).toContainText('press Run');
  await figure(page).evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await figure(page).getByRole('button', { name: 'Run' }).click();
  await expect(figure(page)).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  const live = JSON.parse((await figure(page).locator('script.lp-data').textContent())!);
  expect(live.prompt).toBe(prompt);
  // The prompt's markup arrived as text: no <b> element inside the figure.
  expect(await figure(page).locator('b').count()).toBe(0);
  expect(consoleErrors).toEqual([]);
});
