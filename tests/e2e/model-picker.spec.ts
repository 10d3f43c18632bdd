/**
 * The model picker (issues 7 and 9): readers choose the model the live figures run — a hub
 * model (size and memory estimate before any download, Cache Storage on the second run, a
 * clear message for a gated model, a refusal before download for one too large), switching
 * model mid-download, and their own llama2.c files. The hub is mocked inside the browser
 * context (./hub-route.ts: Playwright routes requests of the page and of its Worker).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { FIGURES } from '../../src/core/figures/registry.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { openModel } from '../../src/node/open-model.ts';
import { writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { storiesPath } from '../helpers/stories.ts';
import { expect, test } from './fixtures.ts';
import { type RouteRepo, routeHub } from './hub-route.ts';

const ARTICLE = '/articles/reading-a-tiny-model/';
const figure = (page: Page) => page.locator('lp-figure[data-kind="logit-lens"]').first();
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let tinyA: string, tinyB: string;

test.beforeAll(async () => {
  tinyA = mkdtempSync(path.join(os.tmpdir(), 'lenspress-picker-a-'));
  tinyB = mkdtempSync(path.join(os.tmpdir(), 'lenspress-picker-b-'));
  await writeHfCheckpoint(randomModel(tinyConfig('mistral', { n_layers: 2 }), 3), tinyA);
  await writeHfCheckpoint(randomModel(tinyConfig('mistral', { n_layers: 2 }), 4), tinyB);
});

/** A config.json with Mistral 7B v0.1's shapes; its shards are only listed (with their real sizes), never served. */
const MISTRAL_7B: RouteRepo = {
  served: {
    'config.json': JSON.stringify({ architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 10000.0, sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16', bos_token_id: 1, eos_token_id: 2 }),
  },
  listed: { 'tokenizer.json': 1_795_303, 'model.safetensors.index.json': 25_125, 'model-00001-of-00002.safetensors': 9_942_981_696, 'model-00002-of-00002.safetensors': 4_540_516_344 },
};

async function pickHub(fig: Locator, spec: string): Promise<void> {
  await fig.locator('select[name="lp-model"]').selectOption('hub');
  await fig.getByRole('textbox', { name: 'Hub id' }).fill(spec);
  await fig.getByRole('button', { name: 'Check size' }).click();
}

async function run(fig: Locator): Promise<void> {
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', /live|error/, { timeout: 90_000 });
  expect(await fig.getAttribute('data-state'), `Run failed: ${await fig.locator('.lp-status').textContent()}`).toBe('live');
}

const weightRequests = (requests: string[], repo: string) => requests.filter((r) => r.includes(repo) && r.includes('model.safetensors'));

test('nothing is requested from the hub until a reader picks a hub model; the list says where files come from', async ({ page, context }) => {
  const hub = await routeHub(context, {});
  await page.goto(ARTICLE);
  const fig = figure(page);
  await expect(fig.locator('select[name="lp-model"] option')).toHaveText([/^stories260K \(this site, /, /^SmolLM2-135M · about 258\.4 MB$/, /^TinyLlama-1\.1B/, /^Mistral 7B v0\.1 \(GGUF Q4_0\)/, 'Any hub id…', 'A file or folder on this device…']);
  await fig.locator('select[name="lp-model"]').selectOption('hub');
  await expect(fig.locator('.lp-model-note')).toContainText('huggingface.co');
  expect(hub.requests).toEqual([]);
});

test('a hub model: size and estimate first, Run, provenance names it; after a reload the weights come from Cache Storage', async ({ page, context, consoleErrors }) => {
  const hub = await routeHub(context, { 'lab/tiny-a': { dir: tinyA } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/tiny-a');
  await expect(fig.locator('.lp-model')).toHaveText(/^lab\/tiny-a: \d+\.\d MB to download from huggingface\.co, about \d+\.\d MB of memory \(estimate, [\d,]+ parameters\)\.$/);
  expect(weightRequests(hub.requests, 'tiny-a'), 'no weights before Run').toEqual([]);
  // Every figure on the page follows the choice.
  await expect(page.locator('lp-figure select[name="lp-model"]').last()).toHaveValue('hub');
  await run(fig);
  const digest = sha(path.join(tinyA, 'model.safetensors'));
  await expect(fig.locator('.lp-provenance')).toContainText(`Model lab/tiny-a (`);
  await expect(fig.locator('.lp-provenance')).toContainText(`sha256 ${digest.slice(0, 12)}`);
  const data = JSON.parse((await fig.locator('script.lp-data').textContent())!) as { provenance: { model: { sha256: string; format: string } } };
  expect(data.provenance.model).toMatchObject({ sha256: digest, format: 'Hugging Face safetensors (float32) from huggingface.co' });
  expect(weightRequests(hub.requests, 'tiny-a').length).toBeGreaterThan(0);
  // The link keeps the model; a reload restores it, and the second Run reads the weights from Cache Storage.
  expect(new URL(page.url()).searchParams.get(`lp.${await fig.getAttribute('id')}.model`)).toBe('lab/tiny-a');
  hub.requests.length = 0;
  await page.reload();
  await expect(figure(page)).toHaveAttribute('data-state', 'restored');
  await run(figure(page));
  await expect(figure(page).locator('.lp-provenance')).toContainText(`sha256 ${digest.slice(0, 12)}`);
  expect(weightRequests(hub.requests, 'tiny-a'), 'weights requested again').toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test('a hub model larger than one Cache Storage part (64 MiB): it streams into parts, runs equal to Node, and a reload reads it from the parts', async ({ page, context, consoleErrors }) => {
  test.setTimeout(300_000);
  // 32000 × 288 embedding and unembedding in float32: a 75 MB model.safetensors, two parts.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-picker-big-'));
  await writeHfCheckpoint(randomModel(tinyConfig('mistral', { n_layers: 1, d_model: 288, d_mlp: 768, n_heads: 6, d_head: 48, n_kv_heads: 2 }), 8), dir);
  const bytes = statSync(path.join(dir, 'model.safetensors')).size;
  expect(bytes).toBeGreaterThan(64 * 2 ** 20);
  const hub = await routeHub(context, { 'lab/big': { dir } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/big');
  await run(fig);
  const digest = sha(path.join(dir, 'model.safetensors'));
  const data = JSON.parse((await fig.locator('script.lp-data').textContent())!) as { grid: { cells: { ids: number[]; probs: number[] }[][] }; provenance: { model: { sha256: string } } };
  expect(data.provenance.model.sha256).toBe(digest);
  const cached = await page.evaluate(async () => (await (await caches.open('lenspress-models-v1')).keys()).map((r) => r.url));
  expect(cached.filter((u) => u.includes('lab/big/') && u.includes('model.safetensors')).map((u) => new URL(u).search).sort()).toEqual(['?lenspress-part=0', '?lenspress-part=1', '?lenspress-parts=index']);
  // The same figure in Node from the same folder: the parts gave back the same weights.
  const m = await openModel(dir);
  const props = (JSON.parse((await fig.getAttribute('data-config'))!) as { props: Record<string, unknown> & { prompt: string } }).props;
  const want = (await FIGURES['logit-lens'].compute({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' }, props)) as unknown as typeof data;
  want.grid.cells.forEach((row, r) => row.forEach((w, t) => w.probs.forEach((p, i) => expect(Math.abs(data.grid.cells[r][t].probs[i] - p) / p, `row ${r} position ${t} rank ${i}`).toBeLessThan(1e-4))));
  await m.hooked.release();
  hub.requests.length = 0;
  await page.reload();
  await run(figure(page));
  await expect(figure(page).locator('.lp-provenance')).toContainText(`sha256 ${digest.slice(0, 12)}`);
  expect(weightRequests(hub.requests, 'lab/big'), 'weights requested again').toEqual([]);
  rmSync(dir, { recursive: true, force: true });
  expect(consoleErrors).toEqual([]);
});

test('a gated model (401) says what to do', async ({ page, context }) => {
  await routeHub(context, { 'lab/gated': { dir: tinyA, gated: true } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/gated');
  await expect(fig.locator('.lp-model')).toContainText('the hub answered 401: this model is gated or private');
  await expect(fig.locator('.lp-model')).toContainText('--token');
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'error');
  await expect(fig.locator('.lp-status')).toContainText('Could not check lab/gated: lab/gated@main: the hub answered 401: this model is gated or private: Lenspress cannot download gated or private models in the page');
});

test('a model too large is refused before any download, with its size and estimate', async ({ page, context }) => {
  const hub = await routeHub(context, { 'lab/mistral-7b': MISTRAL_7B });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/mistral-7b');
  const line = fig.locator('.lp-model');
  // Its 9.9 GB and 4.5 GB shards are no limit (read tensor by tensor); its memory is.
  await expect(line).toContainText('lab/mistral-7b cannot run here: it needs about 54.0 GB of memory (weights in JavaScript, ONNX Runtime\'s copy, activations), more than the ');
  await expect(line).toContainText('7,241,732,096 parameters');
  await expect(line).not.toContainText('one buffer');
  await expect(line).toContainText('about 54.0 GB of memory (estimate');
  await expect(line).toContainText('Nothing was downloaded');
  await fig.getByRole('button', { name: 'Run' }).click();
  await expect(fig).toHaveAttribute('data-state', 'error');
  await expect(fig.locator('.lp-status')).toContainText('cannot run here');
  expect(hub.requests.filter((r) => r.includes('.safetensors'))).toEqual([]);
});

test('switching model mid-download stops it cleanly, caches nothing half-done, and the next Run uses the new model', async ({ page, context, consoleErrors }) => {
  let release!: () => void;
  let started!: () => void;
  const downloading = new Promise<void>((r) => (started = r));
  const slow: RouteRepo = { dir: tinyA, holdUntil: { file: 'model.safetensors', until: new Promise<void>((r) => (release = r)), started } };
  await routeHub(context, { 'lab/slow': slow, 'lab/tiny-b': { dir: tinyB } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/slow');
  await expect(fig.locator('.lp-model')).toContainText('MB to download');
  await fig.getByRole('button', { name: 'Run' }).click();
  await downloading;
  await expect(fig.locator('.lp-status')).toContainText('Downloading lab/slow from the hub');
  await pickHub(fig, 'lab/tiny-b');
  await expect(fig.locator('.lp-status')).toHaveText('Stopped: the model is now lab/tiny-b. Press Run to use it.');
  release();
  await expect(fig.locator('.lp-model')).toContainText('lab/tiny-b: ');
  await run(fig);
  await expect(fig.locator('.lp-provenance')).toContainText(`Model lab/tiny-b (`);
  await expect(fig.locator('.lp-provenance')).toContainText(`sha256 ${sha(path.join(tinyB, 'model.safetensors')).slice(0, 12)}`);
  const cached = await page.evaluate(async () => (await (await caches.open('lenspress-models-v1')).keys()).map((r) => r.url));
  // Weights are cached in parts plus an index written last (src/browser/cache-storage.ts).
  expect(cached.filter((u) => u.includes('lab/slow/') && u.includes('model.safetensors')), 'the stopped download left an entry').toEqual([]);
  expect(cached.filter((u) => u.includes('lab/tiny-b/') && u.includes('model.safetensors')).map((u) => new URL(u).search).sort()).toEqual(['?lenspress-part=0', '?lenspress-parts=index']);
  expect(consoleErrors).toEqual([]);
});

test('Stop during a hub download, then Run again: the model downloads whole and runs', async ({ page, context }) => {
  let release!: () => void;
  let started!: () => void;
  const downloading = new Promise<void>((r) => (started = r));
  await routeHub(context, { 'lab/slow': { dir: tinyA, holdUntil: { file: 'model.safetensors', until: new Promise<void>((r) => (release = r)), started } } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/slow');
  await fig.getByRole('button', { name: 'Run' }).click();
  await downloading;
  await fig.getByRole('button', { name: 'Stop' }).click();
  await expect(fig.locator('.lp-status')).toHaveText('Stopped.');
  release();
  await run(fig);
  await expect(fig.locator('.lp-provenance')).toContainText('Model lab/slow (');
});

test('a llama2.c .bin with its tokenizer from the reader\'s disk runs, and provenance names it', async ({ page, consoleErrors }) => {
  await page.goto(ARTICLE);
  const fig = figure(page);
  await fig.locator('select[name="lp-model"]').selectOption('local');
  await fig.locator('input[name="lp-files"]').setInputFiles([storiesPath('stories260K.bin'), storiesPath('tok512.model')]);
  await expect(fig.locator('.lp-model')).toHaveText(/^stories260K: \d+\.\d [KM]B to read from your disk, about [\d.]+ [KM]B of memory \(estimate, [\d,]+ parameters\)\.$/);
  await run(fig);
  const data = JSON.parse((await fig.locator('script.lp-data').textContent())!) as { provenance: { model: { name: string; sha256: string; format: string } } };
  expect(data.provenance.model).toEqual(expect.objectContaining({ name: 'stories260K', sha256: sha(storiesPath('stories260K.bin')), format: 'llama2.c .bin (local file)' }));
  // A local file cannot travel in a link.
  expect(new URL(page.url()).searchParams.get(`lp.${await fig.getAttribute('id')}.model`)).toBeNull();
  expect(consoleErrors).toEqual([]);
});

test('a GGUF file on the hub (org/name:file.gguf): its size before the download, then it runs', async ({ page, context }) => {
  const gguf = storiesPath('stories260K.gguf');
  const hub = await routeHub(context, { 'lab/stories': { dir: path.dirname(gguf) } });
  await page.goto(ARTICLE);
  const fig = figure(page);
  await pickHub(fig, 'lab/stories:stories260K.gguf');
  // Without a config.json the shape comes from the file's header, fetched by a Range request before the download.
  await expect(fig.locator('.lp-model')).toHaveText(/^lab\/stories:stories260K\.gguf: 1\.1 MB to download from huggingface\.co, about [\d.]+ MB of memory \(estimate, [\d,]+ parameters\)\.$/);
  expect(hub.requests.filter((r) => r.includes('stories260K.gguf'))).toHaveLength(1); // the header's Range request only
  await run(fig);
  await expect(fig.locator('.lp-provenance')).toContainText(`Model lab/stories:stories260K.gguf (`);
  await expect(fig.locator('.lp-provenance')).toContainText(`sha256 ${sha(gguf).slice(0, 12)}`);
});

test('a Hugging Face folder from the reader\'s disk (webkitdirectory) runs', async ({ page }) => {
  await page.goto(ARTICLE);
  const fig = figure(page);
  await fig.locator('select[name="lp-model"]').selectOption('local');
  await fig.locator('input[name="lp-folder"]').setInputFiles(tinyB);
  await expect(fig.locator('.lp-model')).toHaveText(new RegExp(`^${path.basename(tinyB)}: \\d+\\.\\d MB to read from your disk, about \\d+\\.\\d MB of memory \\(estimate, [\\d,]+ parameters\\)\\.$`));
  await run(fig);
  const data = JSON.parse((await fig.locator('script.lp-data').textContent())!) as { provenance: { model: { name: string; sha256: string } } };
  expect(data.provenance.model).toEqual(expect.objectContaining({ name: path.basename(tinyB), sha256: sha(path.join(tinyB, 'model.safetensors')) }));
});
