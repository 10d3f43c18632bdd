/**
 * A model file over 4 GiB from the reader's disk, in the page (issue 7): a GGUF whose tensors
 * lie past a 4.4 GB sparse hole (tests/helpers/padded-gguf.ts; the disk holds a few MB) is
 * checked from its header alone (size, shape and memory estimate; no 2 GiB refusal), then
 * read tensor by tensor through File.slice, hashed a part at a time for the provenance, and
 * run on WebAssembly. Its figure equals, within the quantized-page tolerances (1e-4 relative
 * on probabilities), the figure Node computes from the same model written without the hole.
 * This is the path a 4.1 GB Mistral 7B Q4_0 file takes in the page; its weights themselves
 * need a real GPU and memory this machine's headless Chromium does not have.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { FIGURES } from '../../src/core/figures/registry.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { FileHandleSource, sha256Source } from '../../src/node/file-source.ts';
import { openModel } from '../../src/node/open-model.ts';
import { writeGgufCheckpoint } from '../../src/node/write-checkpoint.ts';
import { writePaddedGguf } from '../helpers/padded-gguf.ts';
import { expect, test } from './fixtures.ts';
import { compareLensGrids } from './lens-compare.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const PAD = 4_400_000_000;
let dir: string, padded: string, plain: string;

test.beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-large-'));
  padded = path.join(dir, 'mistral-padded-q8_0.gguf');
  plain = path.join(dir, 'mistral-plain-q8_0.gguf');
  const model = randomModel(tinyConfig('mistral', { n_layers: 2 }), 11);
  await writePaddedGguf(model, padded, PAD);
  await writeGgufCheckpoint(model, plain, { type: 'Q8_0', name: 'padded' });
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a 4.4 GB GGUF from disk: estimate from its header, then it opens tensor by tensor and runs, equal to Node', async ({ page, consoleErrors }) => {
  test.setTimeout(300_000);
  const size = statSync(padded).size;
  expect(size).toBeGreaterThan(2 ** 32);
  await page.goto(ARTICLE);
  const fig = page.locator('lp-figure[data-kind="logit-lens"]').first();
  await fig.locator('select[name="lp-model"]').selectOption('local');
  await fig.locator('input[name="lp-files"]').setInputFiles(padded);
  await expect(fig.locator('.lp-model')).toHaveText(/^mistral-padded-q8_0\.gguf: 4\.\d GB to read from your disk, about [\d.]+ MB of memory \(estimate, [\d,]+ parameters\)\.$/);
  await fig.evaluate((el) => ((el as HTMLElement).dataset.backend = 'wasm'));
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig.locator('.lp-status')).toContainText('Computing the sha256 of mistral-padded-q8_0.gguf', { timeout: 120_000 });
  await expect(fig).toHaveAttribute('data-state', /live|error/, { timeout: 240_000 });
  expect(await fig.getAttribute('data-state'), `Run failed: ${await fig.locator('.lp-status').textContent()}`).toBe('live');
  const live = JSON.parse((await fig.locator('script.lp-data').textContent())!) as LogitLensFigureData;

  const src = await FileHandleSource.open(padded);
  const sha = await sha256Source(src);
  await src.close();
  expect(live.provenance.model).toEqual(expect.objectContaining({ name: 'mistral-padded-q8_0.gguf', sha256: sha }));
  const m = await openModel(plain);
  const props = (JSON.parse((await fig.getAttribute('data-config'))!) as { props: Record<string, unknown> & { prompt: string } }).props;
  const want = (await FIGURES['logit-lens'].compute({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' }, props)) as LogitLensFigureData;
  const { rel } = compareLensGrids(live, want);
  console.log(`4.4 GB GGUF in the page (wasm) vs Node: max relative probability difference ${rel.toExponential(2)}`);
  expect(rel).toBeLessThan(1e-4);
  expect(consoleErrors).toEqual([]);
});
