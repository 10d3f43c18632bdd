/**
 * The live logit-lens figure in Chromium: the static figure without JavaScript, and Run in
 * the page (WebGPU through SwiftShader, and WebAssembly) giving the data the build computes
 * in Node: same top tokens, probabilities within 1e-4.
 */
import type { Page } from '@playwright/test';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { precomputeKind, precomputeLogitLens } from '../../src/node/precompute.ts';
import { expect, test } from './fixtures.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const DEFAULT_PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to';
const figure = (page: Page) => page.locator('lp-figure[data-kind="logit-lens"]').first();

async function figureData(page: Page): Promise<LogitLensFigureData> {
  return JSON.parse((await figure(page).locator('script.lp-data').textContent())!) as LogitLensFigureData;
}

/** Same top-k ids everywhere; probabilities and entropies within 1e-4. */
function expectSameGrid(live: LogitLensFigureData, expected: LogitLensFigureData) {
  expect(live.grid.inputIds).toEqual(expected.grid.inputIds);
  expect(live.grid.cells.length).toBe(expected.grid.cells.length);
  let worst = 0;
  live.grid.cells.forEach((row, r) =>
    row.forEach((cell, t) => {
      const e = expected.grid.cells[r][t];
      expect(cell.ids[0], `row ${r} position ${t}`).toBe(e.ids[0]);
      cell.probs.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - e.probs[i]))));
      worst = Math.max(worst, Math.abs(cell.entropy - e.entropy));
    }),
  );
  expect(worst).toBeLessThan(1e-4);
}

async function runPrompt(page: Page, prompt: string, backend: 'auto' | 'wasm' = 'auto') {
  const fig = figure(page);
  await fig.evaluate((el, b) => ((el as HTMLElement).dataset.backend = b), backend);
  await fig.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await fig.getByRole('button', { name: 'Run' }).click();
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed figure is there, with the build-time values', async ({ page }) => {
    await page.goto(ARTICLE);
    const expected = await precomputeLogitLens('stories260K', DEFAULT_PROMPT, { norm: 'model', k: 5 });
    const T = expected.grid.inputIds.length;
    const cells = figure(page).locator('svg g.cell');
    await expect(cells).toHaveCount(7 * T);
    const tops = await cells.evaluateAll((gs) => gs.map((g) => [Number(g.getAttribute('data-row')), Number(g.getAttribute('data-pos')), g.getAttribute('data-top')] as const));
    for (const [r, t, top] of tops) expect(top).toBe(expected.grid.pieces[expected.grid.cells[r][t].ids[0]] === undefined ? null : top);
    expectSameGrid(await figureData(page), expected);
    await expect(figure(page).locator('.lp-provenance')).toContainText('stories260K');
    await expect(figure(page).locator('.lp-provenance')).toContainText('sha256 b0a507e7ad0f');
    await expect(figure(page).getByRole('button', { name: 'Run' })).toBeDisabled();
  });
});

test('Run updates the figure in the page (WebGPU when offered) to the Node values', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const prompt = 'Tom had a red ball. He liked to';
  await runPrompt(page, prompt);
  await expect(figure(page)).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  const live = await figureData(page);
  expect(live.prompt).toBe(prompt);
  expect(live.provenance.backend).toMatch(/WebGPU|WebAssembly/);
  expectSameGrid(live, await precomputeLogitLens('stories260K', prompt, { norm: 'model', k: 5 }));
  // The SVG was redrawn from the live data.
  await expect(figure(page).locator('svg g.cell')).toHaveCount(7 * live.grid.inputIds.length);
  await expect(figure(page).locator('.lp-status')).toContainText('computed in your browser');
  expect(consoleErrors).toEqual([]);
});

test('Run on WebAssembly gives the Node values too', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const prompt = 'Lily saw a big dog';
  await runPrompt(page, prompt, 'wasm');
  await expect(figure(page)).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  const live = await figureData(page);
  expect(live.provenance.backend).toContain('WebAssembly');
  expectSameGrid(live, await precomputeLogitLens('stories260K', prompt, { norm: 'model', k: 5 }));
  expect(consoleErrors).toEqual([]);
});

test('hovering or focusing a cell lists its top tokens', async ({ page }) => {
  await page.goto(ARTICLE);
  const data = await figureData(page);
  const cell = figure(page).locator('g.cell[data-row="3"][data-pos="2"]');
  await cell.focus();
  const details = figure(page).locator('.lp-details');
  await expect(details).toContainText('block 3 · position 2');
  await expect(details.locator('li')).toHaveCount(5);
  const top = data.grid.pieces[data.grid.cells[3][2].ids[0]];
  await expect(details.locator('li').first()).toContainText(top);
});

test('bad prompts get a message and the page stays usable', async ({ page }) => {
  await page.goto(ARTICLE);
  await runPrompt(page, '   ', 'wasm');
  await expect(figure(page)).toHaveAttribute('data-state', 'error', { timeout: 60_000 });
  await expect(figure(page).locator('.lp-status')).toContainText('the prompt is empty');
  await expect(figure(page).getByRole('button', { name: 'Run' })).toBeEnabled();
  await runPrompt(page, 'word '.repeat(600), 'wasm');
  await expect(figure(page).locator('.lp-status')).toContainText("this model's context is 512", { timeout: 60_000 });
  await expect(figure(page).getByRole('button', { name: 'Run' })).toBeEnabled();
});

test('the engine check: every hook of every architecture on WebGPU and on wasm within 1e-4 of the reference', async ({ page, consoleErrors }) => {
  test.setTimeout(300_000);
  await page.goto('/diagnostics/');
  await page.getByRole('button', { name: 'Run the check' }).click();
  const results = (await page.waitForFunction(() => (window as unknown as { __engineCheck?: unknown }).__engineCheck, undefined, { timeout: 280_000 })).jsonValue() as Promise<{ model: string; provider: string; ok: boolean; maxAbsDiff: number; hooks: number; perHook: Record<string, number>; error?: string }[]>;
  const r = await results;
  expect(r.map((x) => `${x.model}/${x.provider}`)).toEqual(['stories260K', 'random llama', 'random mistral', 'random gemma', 'random qwen2'].flatMap((m) => [`${m}/webgpu`, `${m}/wasm`]));
  for (const x of r) {
    expect(x.error).toBeUndefined();
    expect(x.hooks, x.model).toBe(x.model === "stories260K" ? 5 * 13 + 3 : 3 * 13 + 3);
    const over = Object.entries(x.perHook).filter(([, m]) => !(m < 1e-4));
    expect(over, `${x.model} on ${x.provider}: hooks over 1e-4`).toEqual([]);
  }
  expect(consoleErrors).toEqual([]);
});

test('the option controls change what is computed: intermediate states, no norm, iterative secondaries', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const fig = figure(page);
  await fig.getByLabel('State').selectOption('intermediate');
  await fig.getByLabel('Normalisation').selectOption('none');
  await fig.getByLabel('Secondary').selectOption('iterative');
  const prompt = 'The dog ran to the park';
  await runPrompt(page, prompt, 'wasm');
  await expect(fig).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  const live = await figureData(page);
  expect(live.grid.settings).toMatchObject({ state: 'intermediate', norm: 'none', secondary: 'iterative' });
  const expected = (await precomputeKind('logit-lens', 'stories260K', { prompt, norm: 'none', k: 5, state: 'intermediate', decoder: 'output', secondary: 'iterative', color: 'prob' })) as LogitLensFigureData;
  expectSameGrid(live, expected);
  expect(new URL(page.url()).searchParams.get(`lp.${await fig.getAttribute('id')}.state`)).toBe('intermediate');
  expect(consoleErrors).toEqual([]);
});

test('one Worker serves the page: a second Run reuses the loaded model (no second download)', async ({ page, requests, consoleErrors }) => {
  await page.goto(ARTICLE);
  await runPrompt(page, 'Tom had a red ball.', 'wasm');
  await expect(figure(page)).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  await runPrompt(page, 'Lily saw a cat.', 'wasm');
  // The status line still says "computed in your browser" from the first run: wait for the
  // second run's data instead.
  await expect.poll(async () => (await figureData(page)).prompt, { timeout: 90_000 }).toBe('Lily saw a cat.');
  await expect(figure(page).locator('.lp-status')).toContainText('computed in your browser');
  expect(requests.filter((u) => u.endsWith('stories260K.bin')).length).toBe(1);
  expect(consoleErrors).toEqual([]);
});

test('Stop cancels a run in flight; the page stays usable and Run works again', async ({ page }) => {
  await page.goto(ARTICLE);
  // Hold the model download so the run is still in flight when Stop is pressed.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/stories260K.bin', async (route) => {
    await held;
    // Stop terminated the Worker that asked: its request may be gone (Playwright then reports the route as handled).
    await route.continue().catch(() => undefined);
  });
  await runPrompt(page, 'Tom had a dog.', 'wasm');
  await expect(figure(page).getByRole('button', { name: 'Stop' })).toBeVisible();
  await figure(page).getByRole('button', { name: 'Stop' }).click();
  await expect(figure(page).locator('.lp-status')).toHaveText('Stopped.');
  await expect(figure(page).getByRole('button', { name: 'Run' })).toBeEnabled();
  release();
  await page.unroute('**/stories260K.bin');
  await runPrompt(page, 'Tom had a dog.', 'wasm');
  await expect(figure(page)).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  expect((await figureData(page)).prompt).toBe('Tom had a dog.');
});

test('a damaged model download is refused with a message; the page stays usable', async ({ page }) => {
  await page.goto(ARTICLE);
  await page.route('**/stories260K.bin', async (route) => {
    const res = await route.fetch();
    const body = await res.body();
    await route.fulfill({ response: res, body: body.subarray(0, 5000) });
  });
  await runPrompt(page, 'Tom had a dog.', 'wasm');
  await expect(figure(page)).toHaveAttribute('data-state', 'error', { timeout: 60_000 });
  await expect(figure(page).locator('.lp-status')).toContainText(/sha256 .* expected b0a507e7ad0f/);
  await page.unroute('**/stories260K.bin');
  await page.route('**/stories260K.bin', (route) => route.fulfill({ status: 404, body: 'not here' }));
  await runPrompt(page, 'Tom had a dog.', 'wasm');
  await expect(figure(page).locator('.lp-status')).toContainText(/could not download .*404/, { timeout: 60_000 });
  await expect(figure(page).getByRole('button', { name: 'Run' })).toBeEnabled();
});

test('generation: new tokens are generated in the page, marked after the prompt, and match Node', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const fig = figure(page);
  await fig.getByLabel('New tokens').fill('6');
  await fig.getByLabel('Temperature').fill('0.8');
  await fig.getByLabel('Seed').fill('7');
  const prompt = 'Once upon a time, Tom';
  await runPrompt(page, prompt, 'wasm');
  await expect(fig).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
  const live = await figureData(page);
  const promptIds = live.grid.promptLength!;
  expect(live.grid.inputIds.length).toBe(promptIds + 6);
  expect(live.provenance.settings).toMatchObject({ generate: 6, temperature: 0.8, seed: 7 });
  const expected = (await precomputeKind('logit-lens', 'stories260K', { prompt, norm: 'model', k: 5, state: 'block', decoder: 'output', secondary: 'topk', color: 'prob', generate: 6, temperature: 0.8, topK: 0, topP: 1, seed: 7 })) as LogitLensFigureData;
  expectSameGrid(live, expected);
  expect(consoleErrors).toEqual([]);
});
