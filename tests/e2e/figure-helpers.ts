/**
 * What the figure e2e tests share: a figure's data and config as the page holds them, Run on
 * a chosen backend, the Node value of the same figure (precomputeKind, the build's code path),
 * and the four exports checked for validity.
 */
import { readFile } from 'node:fs/promises';
import type { Download, Locator, Page } from '@playwright/test';
import type { FigureData } from '../../src/core/figures/figure-kind.ts';
import { precomputeKind } from '../../src/node/precompute.ts';
import { expect } from './fixtures.ts';

export const TRACING_ARTICLE = '/articles/tracing-information-flow/';

export async function figureData<D extends FigureData>(fig: Locator): Promise<D> {
  return JSON.parse((await fig.locator('script.lp-data').textContent())!) as D;
}

/** The props the component passed (what the build computed the figure from). */
export async function figureProps(fig: Locator): Promise<Record<string, unknown> & { prompt: string }> {
  return (JSON.parse((await fig.getAttribute('data-config'))!) as { props: Record<string, unknown> & { prompt: string } }).props;
}

/** The same figure computed in Node, as the build does. */
export async function nodeFigure<D extends FigureData>(kind: string, props: Record<string, unknown> & { prompt: string }): Promise<D> {
  return (await precomputeKind(kind, 'stories260K', props)) as D;
}

/** Presses Run on `backend` and waits for the live figure. */
export async function runLive(fig: Locator, backend: 'auto' | 'wasm' = 'wasm'): Promise<void> {
  await fig.evaluate((el, b) => ((el as HTMLElement).dataset.backend = b), backend);
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
}

async function exported(page: Page, fig: Locator, label: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: label, exact: true }).click()]);
  return { name: (dl as Download).suggestedFilename(), bytes: await readFile((await dl.path())!) };
}

/**
 * SVG parses as SVG and holds `selector` `count` times; PNG decodes at twice the figure's
 * size; JSON is the figure's data; CSV starts with `header` and has `rows` lines after it.
 */
export async function checkExports(page: Page, fig: Locator, expected: { selector: string; count: number; header: readonly string[]; rows: number }): Promise<void> {
  const data = await figureData(fig);
  const svg = (await exported(page, fig, 'SVG')).bytes.toString('utf8');
  const parsed = await page.evaluate(([text, selector]) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { error: doc.querySelector('parsererror') !== null, root: doc.documentElement.localName, count: doc.querySelectorAll(selector).length };
  }, [svg, expected.selector] as const);
  expect(parsed).toEqual({ error: false, root: 'svg', count: expected.count });

  const png = (await exported(page, fig, 'PNG')).bytes;
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const size = await page.evaluate(async (bytes) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    return [bmp.width, bmp.height];
  }, [...png]);
  const box = await fig.locator('.figure-frame svg').first().evaluate((s) => [(s as SVGSVGElement).width.baseVal.value, (s as SVGSVGElement).height.baseVal.value]);
  expect(size).toEqual([Math.ceil(box[0] * 2), Math.ceil(box[1] * 2)]);

  expect(JSON.parse((await exported(page, fig, 'JSON')).bytes.toString('utf8'))).toEqual(data);
  const csv = (await exported(page, fig, 'CSV')).bytes.toString('utf8').trimEnd().split('\r\n');
  expect(csv[0]).toBe(expected.header.join(','));
  expect(csv.length).toBe(1 + expected.rows);
}

/**
 * A shared link restores the prompt and `options` (control name → value as the form shows
 * it) and offers to run; Run then computes with them. Returns the live data.
 */
export async function urlRoundTrip<D extends FigureData>(page: Page, fig: () => Locator, prompt: string, options: Record<string, string>): Promise<D> {
  const id = await fig().getAttribute('id');
  await fig().getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  for (const [name, value] of Object.entries(options)) {
    const control = fig().locator(`[name="${name}"]`);
    if ((await control.getAttribute('type')) === 'checkbox') await control.setChecked(value === 'true');
    else if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
  }
  await fig().getByRole('button', { name: 'Copy link' }).click();
  const link = new URL(page.url());
  expect(link.searchParams.get(`lp.${id}.prompt`)).toBe(prompt);
  for (const [name, value] of Object.entries(options)) expect(link.searchParams.get(`lp.${id}.${name}`)).toBe(value);

  await page.goto('about:blank');
  await page.goto(link.href);
  await expect(fig().getByRole('textbox', { name: 'Prompt' })).toHaveValue(prompt);
  for (const [name, value] of Object.entries(options)) {
    const control = fig().locator(`[name="${name}"]`);
    if ((await control.getAttribute('type')) === 'checkbox') await expect(control).toBeChecked({ checked: value === 'true' });
    else await expect(control).toHaveValue(value);
  }
  await expect(fig()).toHaveAttribute('data-state', 'restored');
  await expect(fig().locator('.lp-status')).toContainText('press Run');
  await runLive(fig());
  return figureData<D>(fig());
}
