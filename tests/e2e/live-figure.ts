/**
 * Helpers for the browser tests of live figures (gradient, analogy, markov): find a figure by
 * kind, read its data and config, Run it on a chosen backend, export a file, and compute the
 * same figure in Node with the same core code (fresh, not from the build's figure cache).
 */
import { readFile } from 'node:fs/promises';
import type { Download, Locator, Page } from '@playwright/test';
import type { FigureData } from '../../src/core/figures/figure-kind.ts';
import { FIGURES } from '../../src/core/figures/registry.ts';
import { sharedModel } from '../../src/node/precompute.ts';
import { expect } from './fixtures.ts';

export const figure = (page: Page, kind: string): Locator => page.locator(`lp-figure[data-kind="${kind}"]`).first();

export async function figureData<D extends FigureData>(page: Page, kind: string): Promise<D> {
  return JSON.parse((await figure(page, kind).locator('script.lp-data').textContent())!) as D;
}

/** The props the article gave the figure (after the schema's defaults): what Run sends when no control changed. */
export async function figureProps(page: Page, kind: string): Promise<Record<string, unknown> & { prompt: string }> {
  return (JSON.parse((await figure(page, kind).getAttribute('data-config'))!) as { props: Record<string, unknown> & { prompt: string } }).props;
}

/** Presses Run on `backend` ('auto' takes WebGPU when the browser offers it) and waits for the live data. */
export async function runLive(page: Page, kind: string, backend: 'auto' | 'wasm' = 'auto'): Promise<void> {
  const fig = figure(page, kind);
  await fig.evaluate((el, b) => ((el as HTMLElement).dataset.backend = b), backend);
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', /live|error/, { timeout: 90_000 });
  const state = await fig.getAttribute('data-state');
  expect(state, `Run failed: ${await fig.locator('.lp-status').textContent()}`).toBe('live');
}

/** The figure computed in Node (onnxruntime-node), bypassing the build's cache. */
export async function nodeFigure<D extends FigureData>(kind: string, props: Record<string, unknown> & { prompt: string }, modelName = 'stories260K'): Promise<D> {
  const m = await sharedModel(modelName);
  return (await FIGURES[kind].compute({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' }, props)) as D;
}

export async function exported(page: Page, kind: string, label: string): Promise<{ name: string; text: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), figure(page, kind).getByRole('button', { name: label, exact: true }).click()]);
  const bytes = await readFile((await (dl as Download).path())!);
  return { name: (dl as Download).suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

/** SVG parses in the browser; PNG has the signature and twice the SVG's size; JSON is the data; CSV starts with `header`. Returns the CSV lines. */
export async function checkExports(page: Page, kind: string, header: readonly string[]): Promise<string[]> {
  const data = await figureData(page, kind);
  const svg = await exported(page, kind, 'SVG');
  expect(svg.name).toMatch(new RegExp(`^${kind}-[0-9a-f]{8}-stories260K\\.svg$`));
  const valid = await page.evaluate((text) => new DOMParser().parseFromString(text, 'image/svg+xml').querySelector('parsererror') === null, svg.text);
  expect(valid).toBe(true);
  const png = await exported(page, kind, 'PNG');
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const size = await page.evaluate(async (bytes) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    return [bmp.width, bmp.height];
  }, [...png.bytes]);
  const box = await figure(page, kind).locator('.figure-frame svg').evaluate((s) => [(s as SVGSVGElement).width.baseVal.value, (s as SVGSVGElement).height.baseVal.value]);
  expect(size).toEqual([Math.ceil(box[0] * 2), Math.ceil(box[1] * 2)]);
  expect(JSON.parse((await exported(page, kind, 'JSON')).text)).toEqual(data);
  const csv = (await exported(page, kind, 'CSV')).text.trimEnd().split('\r\n');
  expect(csv[0]).toBe(header.join(','));
  return csv;
}

/** Copy link after changing controls; the link restores them in a fresh page, which offers to Run. */
export async function shareAndRestore(page: Page, kind: string, set: Record<string, string>): Promise<void> {
  const fig = figure(page, kind);
  const id = await fig.getAttribute('id');
  for (const [name, value] of Object.entries(set)) {
    const el = fig.locator(`[name="${name}"]`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
    else await el.fill(value);
  }
  await fig.getByRole('button', { name: 'Copy link' }).click();
  const link = page.url();
  for (const [name, value] of Object.entries(set)) expect(new URL(link).searchParams.get(`lp.${id}.${name}`)).toBe(value);
  await page.goto('about:blank');
  await page.goto(link);
  for (const [name, value] of Object.entries(set)) await expect(figure(page, kind).locator(`[name="${name}"]`)).toHaveValue(value);
  await expect(figure(page, kind)).toHaveAttribute('data-state', 'restored');
  await expect(figure(page, kind).locator('.lp-status')).toContainText('press Run');
}
