/**
 * Nothing breaks (issue 9): faults injected into the page's inference Worker, for real.
 *
 * - A lost WebGPU device: the Worker's script is served with a prologue (below) that wraps
 *   WebGPU in the Worker — the first GPUDevice anyone requests is destroyed (`device.destroy()`,
 *   which loses it for good, as a driver reset or an evicted GPU process would) the first time
 *   the device reads a result back, i.e. in the middle of the first run. The figure must
 *   finish on WebAssembly, say WebGPU failed, and equal what WebAssembly computes.
 * - Out of memory, for real: Chromium runs with V8's --wasm-max-mem-pages, so WebAssembly
 *   memories cannot grow past 24 MiB — what wasm32's 4 GiB is to a big model, scaled down to
 *   stories260K (calibrated: a 10-token prompt needs about 17.5 MiB of ONNX Runtime's memory
 *   and runs; a 481-token prompt does not fit in 20 MiB). The figure must say it ran out of
 *   memory, name the model, its size and what to do, and Run must work again afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from '@playwright/test';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { CHROMIUM, expect, test } from './fixtures.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const figure = (page: Page) => page.locator('lp-figure[data-kind="logit-lens"]').first();

async function figureData(page: Page): Promise<LogitLensFigureData> {
  return JSON.parse((await figure(page).locator('script.lp-data').textContent())!) as LogitLensFigureData;
}

async function runPrompt(page: Page, prompt: string, backend: 'auto' | 'wasm') {
  const fig = figure(page);
  await fig.evaluate((el, b) => ((el as HTMLElement).dataset.backend = b), backend);
  await fig.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await fig.getByRole('button', { name: 'Run' }).click();
}

/** Every text the figure's status line shows from now on (progress included). */
async function recordStatus(page: Page): Promise<() => Promise<string[]>> {
  await figure(page).evaluate((el) => {
    const seen: string[] = [];
    (window as unknown as { __lpStatus: string[] }).__lpStatus = seen;
    const status = el.querySelector('.lp-status')!;
    new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => (window as unknown as { __lpStatus: string[] }).__lpStatus);
}

/** Runs in the Worker before its own code: loses the first WebGPU device at its first read-back. */
const LOSE_WEBGPU_DEVICE = `
(() => {
  const fault = (self.__lpFault = { requested: 0, destroyed: false });
  if (typeof GPUAdapter === 'undefined') return;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  const mapAsync = GPUBuffer.prototype.mapAsync;
  let victim;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    fault.requested++;
    victim ??= device;
    return device;
  };
  GPUBuffer.prototype.mapAsync = function (...args) {
    if (victim && !fault.destroyed) {
      fault.destroyed = true;
      console.warn('robustness.spec: destroying the WebGPU device in the middle of a run');
      victim.destroy();
    }
    return mapAsync.apply(this, args);
  };
})();
`;

/** Serves the figure Worker's script with `prologue` in front of it. */
async function injectIntoWorker(context: BrowserContext, prologue: string): Promise<{ served: () => number }> {
  let served = 0;
  await context.route(/\/_astro\/figure-worker[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    served++;
    await route.fulfill({ response, body: `${prologue}\n${await response.text()}` });
  });
  return { served: () => served };
}

test('a WebGPU device lost in the middle of a run: the figure finishes on WebAssembly, says so, and equals the WebAssembly result', async ({ page, context }) => {
  const worker = await injectIntoWorker(context, LOSE_WEBGPU_DEVICE);
  await page.goto(ARTICLE);
  const hasAdapter = await page.evaluate(async () => 'gpu' in navigator && (await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter()) !== null);
  expect(hasAdapter, 'this test needs WebGPU (SwiftShader with --enable-unsafe-webgpu)').toBe(true);
  const statuses = await recordStatus(page);
  const logs: string[] = [];
  context.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  const prompt = 'Tom had a red ball. He liked to';
  await runPrompt(page, prompt, 'auto');
  const ended = await figure(page)
    .evaluate((el) => new Promise<boolean>((resolve) => {
      const done = () => el.getAttribute('data-state') === 'live' || el.getAttribute('data-state') === 'error';
      if (done()) resolve(true);
      new MutationObserver(() => done() && resolve(true)).observe(el, { attributes: true });
      setTimeout(() => resolve(false), 90_000);
    }));
  const seen = await statuses();
  expect(ended && (await figure(page).getAttribute('data-state')), `status: ${seen.join(' | ')}\nconsole: ${logs.join('\n')}`).toBe('live');
  // The Worker whose device was lost was replaced by a fresh one, which ran the figure on WebAssembly.
  expect(worker.served()).toBe(2);
  // It really started on WebGPU, which failed in the middle, and said so.
  expect(seen.some((s) => /on WebGPU/.test(s))).toBe(true);
  expect(seen.some((s) => /WebGPU failed \(.+\); running on WebAssembly instead/.test(s))).toBe(true);
  const live = await figureData(page);
  expect(live.prompt).toBe(prompt);
  expect(live.provenance.backend).toMatch(/^WebAssembly \(onnxruntime-web\), after WebGPU failed: .+/);
  await expect(figure(page).locator('.lp-provenance')).toContainText('after WebGPU failed');
  await expect(figure(page).locator('.lp-status')).toContainText('after WebGPU failed');

  // The same prompt on WebAssembly, in the same page: the same numbers, bit for bit.
  await runPrompt(page, prompt, 'wasm');
  await expect(figure(page).locator('.lp-status')).toHaveText(/^Updated: computed in your browser on WebAssembly \(onnxruntime-web\)\.$/, { timeout: 90_000 });
  const wasm = await figureData(page);
  expect(wasm.grid).toEqual(live.grid);
});

test('running out of memory says so (model, size, what to do) and the next Run works', async ({ baseURL }) => {
  const profile = await mkdtemp(path.join(tmpdir(), 'lenspress-e2e-oom-'));
  const WASM_PAGES = 384; // 64 KiB pages: 24 MiB
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, baseURL, args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', `--js-flags=--wasm-max-mem-pages=${WASM_PAGES}`] });
  try {
    const worker = await injectIntoWorker(context, '');
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(ARTICLE);
    const fig = figure(page);
    const short = 'Tom had a red ball.';
    await runPrompt(page, short, 'wasm');
    await expect(fig, 'a short prompt fits in 24 MiB').toHaveAttribute('data-state', 'live', { timeout: 90_000 });

    await runPrompt(page, 'word '.repeat(160), 'wasm'); // 481 tokens: about 17 MB more activations
    await expect(fig).toHaveAttribute('data-state', 'error', { timeout: 90_000 });
    const status = fig.locator('.lp-status');
    await expect(status).toContainText("Could not run: out of memory: stories260K did not fit in this page's WebAssembly memory");
    await expect(status).toContainText('It has 260,032 parameters and needs about 19.4 MB for 481 tokens');
    await expect(status).toContainText('choose a smaller model or a shorter prompt; run on WebGPU');
    await expect(status).toContainText('close other tabs');
    await expect(fig.getByRole('button', { name: 'Run' })).toBeEnabled();
    test.info().annotations.push({ type: 'out-of-memory message', description: (await status.textContent()) ?? '' });

    // The Worker whose memory ran out was replaced; Run works again.
    await runPrompt(page, short, 'wasm');
    await expect(fig).toHaveAttribute('data-state', 'live', { timeout: 90_000 });
    expect((await figureData(page)).prompt).toBe(short);
    expect(worker.served()).toBe(2);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
});
