/**
 * SLOW (opt-in: LENSPRESS_SLOW=1 npx playwright test tests/e2e/mistral-shaped.slow.spec.ts;
 * a few minutes and ~10 GB of memory, most of it generating the checkpoint). Mistral 7B's
 * per-layer shapes (d_model 4096, 32 heads, 8 kv heads, d_head 128, d_mlp 14336, vocabulary
 * 32000 with the real Mistral tokenizer) with 2 layers, seeded random weights, written as a
 * GGUF Q4_0 file (375 MB: every 2-D weight Q4_0) and opened in the page from disk: the picker's estimate comes from
 * its header, the Worker reads it tensor by tensor and runs the logit lens on WebAssembly and
 * on WebGPU (SwiftShader here: right answers, slow) with the projections as MatMulNBits; the figure equals Node's (onnxruntime-node, same file)
 * within 1e-4 relative on every shown probability. What a real Mistral 7B adds is 30 more
 * such layers, on a GPU.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogitLensFigureData } from '../../src/core/figures/logit-lens-figure.ts';
import { FIGURES } from '../../src/core/figures/registry.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { openModel } from '../../src/node/open-model.ts';
import { writeGgufCheckpoint } from '../../src/node/write-checkpoint.ts';
import { expect, test } from './fixtures.ts';
import { compareLensGrids } from './lens-compare.ts';

const SLOW = process.env.LENSPRESS_SLOW === '1';
const ARTICLE = '/articles/reading-a-tiny-model/';
let dir: string, file: string;

test.describe('Mistral-7B-shaped Q4_0 GGUF in the page (slow, LENSPRESS_SLOW=1)', () => {
  test.skip(!SLOW, 'opt-in: LENSPRESS_SLOW=1');

  test.beforeAll(async () => {
    test.setTimeout(900_000);
    dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-mistral-shaped-'));
    file = path.join(dir, 'mistral-7b-shaped-2l-q4_0.gguf');
    const config = tinyConfig('mistral', { d_model: 4096, n_heads: 32, n_kv_heads: 8, d_head: 128, d_mlp: 14336, d_vocab: 32000, n_layers: 2, sliding_window: 4096 });
    const t = performance.now();
    await writeGgufCheckpoint(randomModel(config, 7), file, { type: 'Q4_0' });
    console.log(`wrote ${path.basename(file)}: ${(statSync(file).size / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  });

  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const backend of ['wasm', 'webgpu'] as const) test(`from disk on ${backend === 'wasm' ? 'WebAssembly' : 'WebGPU (SwiftShader here)'}: the figure matches Node`, async ({ page, consoleErrors }) => {
    test.setTimeout(900_000);
    await page.goto(ARTICLE);
    const fig = page.locator('lp-figure[data-kind="logit-lens"]').first();
    await fig.locator('select[name="lp-model"]').selectOption('local');
    await fig.locator('input[name="lp-files"]').setInputFiles(file);
    const line = fig.locator('.lp-model');
    await expect(line).toHaveText(/^mistral-7b-shaped-2l-q4_0\.gguf: [\d.]+ MB to read from your disk, about [\d.]+ GB of memory \(estimate, [\d,]+ parameters\)\.$/);
    console.log(`picker: ${await line.textContent()}`);
    await fig.evaluate((el, b) => ((el as HTMLElement).dataset.backend = b), backend);
    const t = performance.now();
    await fig.getByRole('button', { name: 'Run' }).click();
    await expect(fig).toHaveAttribute('data-state', /live|error/, { timeout: 600_000 });
    expect(await fig.getAttribute('data-state'), `Run failed: ${await fig.locator('.lp-status').textContent()}`).toBe('live');
    console.log(`${backend} Run (read, hash, build the graph, create the session, compute): ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const live = JSON.parse((await fig.locator('script.lp-data').textContent())!) as LogitLensFigureData;

    const m = await openModel(file);
    expect(live.provenance.model).toEqual(expect.objectContaining({ sha256: m.provenance.sha256 }));
    const props = (JSON.parse((await fig.getAttribute('data-config'))!) as { props: Record<string, unknown> & { prompt: string } }).props;
    const want = (await FIGURES['logit-lens'].compute({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' }, props)) as LogitLensFigureData;
    const { rel } = compareLensGrids(live, want);
    console.log(`Mistral-7B-shaped Q4_0 in the page (${live.provenance.backend}) vs Node: max relative probability difference ${rel.toExponential(2)}, top probability ${want.grid.cells.at(-1)!.at(-1)!.probs[0].toExponential(2)}`);
    expect(rel).toBeLessThan(1e-4);
    await m.hooked.release();
    expect(consoleErrors).toEqual([]);
  });
});
