/** The hub loader against a local server with the hub's URL layout (no network needed). */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseFiles, HubClient } from '../../src/core/hub/hub-client.ts';
import { parseHubId } from '../../src/core/hub/hub-id.ts';
import { openHfFolder } from '../../src/core/model/open-formats.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { asFloat32 } from '../../src/core/model/quantized.ts';
import { hubSource, nodeHubClient } from '../../src/node/hub.ts';
import { writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { type MockHub, startMockHub } from '../helpers/mock-hub.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lenspress-hub-'));
let hub: MockHub;
const model = randomModel(tinyConfig('mistral', { n_layers: 1 }), 5);

beforeAll(async () => {
  const plain = tmp(), sharded = tmp();
  await writeHfCheckpoint(model, plain);
  await writeHfCheckpoint(model, sharded, { shards: 3 });
  hub = await startMockHub({ 'lab/tiny-mistral': { dir: plain }, 'lab/tiny-sharded': { dir: sharded }, 'lab/gated': { dir: plain, gatedToken: 'hf_secret' } });
});
afterAll(() => hub.close());

describe('hub ids', () => {
  it('parses org/name, @revision and :file.gguf', () => {
    expect(parseHubId('mistralai/Mistral-7B-v0.1')).toEqual({ repo: 'mistralai/Mistral-7B-v0.1', revision: 'main', file: undefined });
    expect(parseHubId('a/b@v1.0:model-q4.gguf')).toEqual({ repo: 'a/b', revision: 'v1.0', file: 'model-q4.gguf' });
    expect(() => parseHubId('nope')).toThrow(/expected org\/name/);
    expect(() => parseHubId('a/b:../../etc/passwd')).toThrow(/not a file inside/);
  });
});

describe('hub downloads', () => {
  it('opens a Hugging Face folder from the hub, with progress, into the cache', async () => {
    const cacheDir = tmp();
    const progress: number[] = [];
    const src = await hubSource('lab/tiny-mistral', { hubUrl: hub.url, cacheDir, onProgress: (p) => progress.push(p.loaded) });
    expect(src.files.map((f) => f.path).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const opened = await openHfFolder({ name: 'lab/tiny-mistral', read: src.read });
    expect(opened.model.config.arch).toBe('mistral');
    expect(Array.from(asFloat32(opened.model.weights.blocks[0].W_Q).subarray(0, 8))).toEqual(Array.from(asFloat32(model.weights.blocks[0].W_Q).subarray(0, 8)));
    expect(progress.length).toBeGreaterThan(0);
    // A second open is served from the cache: no file downloads.
    const before = hub.requests.filter((r) => r.includes('/cdn/')).length;
    const again = await hubSource('lab/tiny-mistral', { hubUrl: hub.url, cacheDir });
    await openHfFolder({ name: 'again', read: again.read });
    expect(hub.requests.filter((r) => r.includes('/cdn/')).length).toBe(before);
  });

  it('picks the shards of a sharded checkpoint', async () => {
    const src = await hubSource('lab/tiny-sharded', { hubUrl: hub.url, cacheDir: tmp() });
    expect(src.files.filter((f) => f.path.endsWith('.safetensors')).length).toBe(3);
    const opened = await openHfFolder({ name: 'sharded', read: src.read });
    expect(opened.model.weights.W_U.length).toBe(model.weights.W_U.length);
  });

  it('resumes a broken transfer with a Range request', async () => {
    const cacheDir = tmp();
    const src = await hubSource('lab/tiny-mistral', { hubUrl: hub.url, cacheDir });
    hub.breakNextAfter = 100_000;
    const bytes = await src.read('model.safetensors');
    expect(bytes!.byteLength).toBe(src.files.find((f) => f.path === 'model.safetensors')!.size);
    expect(hub.requests.some((r) => r.includes('model.safetensors bytes=100000-'))).toBe(true);
  });

  it('refuses a damaged download (sha256 from the listing)', async () => {
    const src = await hubSource('lab/tiny-mistral', { hubUrl: hub.url, cacheDir: tmp() });
    hub.corruptAt = 5000;
    try {
      await expect(src.read('model.safetensors')).rejects.toThrow(/sha256 is [0-9a-f]{64}, the hub lists [0-9a-f]{64}: the download is damaged/);
    } finally {
      hub.corruptAt = undefined;
    }
  });

  it('says how to authenticate for a gated model, and works with the token', async () => {
    await expect(hubSource('lab/gated', { hubUrl: hub.url, cacheDir: tmp() })).rejects.toThrow(/401: this model is gated or private: .*--token or \$HF_TOKEN/);
    const src = await hubSource('lab/gated', { hubUrl: hub.url, cacheDir: tmp(), token: 'hf_secret' });
    expect((await src.read('config.json'))!.byteLength).toBeGreaterThan(10);
  });

  it('says what is missing: an unknown repository, a missing GGUF file, a repository that is not a model folder', async () => {
    await expect(hubSource('lab/nothing', { hubUrl: hub.url, cacheDir: tmp() })).rejects.toThrow(/not found on the hub \(404\)/);
    await expect(hubSource('lab/tiny-mistral:model-q4.gguf', { hubUrl: hub.url, cacheDir: tmp() })).rejects.toThrow(/has no file model-q4.gguf \(it has: no .gguf files\)/);
    expect(() => chooseFiles(parseHubId('a/b'), [{ path: 'README.md' }])).toThrow(/has no config.json: expected a Hugging Face model folder/);
    await expect(nodeHubClient({ hubUrl: 'http://127.0.0.1:9', cacheDir: tmp() }).listFiles(parseHubId('a/b'))).rejects.toThrow(/could not reach/);
  });
});

describe('--model with a hub id', () => {
  it('the CLI opens a hub model, shows download progress, and names it in provenance', { timeout: 120_000 }, async () => {
    const { execFile } = await import('node:child_process');
    const { PROJECT_ROOT } = await import('../../src/node/project-root.ts');
    const env = { ...process.env, LENSPRESS_HUB_URL: hub.url, LENSPRESS_CACHE: tmp() };
    // Asynchronous: the mock hub runs in this process and must keep answering.
    const run = (args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', env, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const r = await run(['inspect', '--model', 'lab/tiny-mistral', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/model.safetensors: [\d.]+\/[\d.]+ MB/);
    const j = JSON.parse(r.stdout);
    expect(j.model.name).toBe('lab/tiny-mistral');
    expect(j.config.arch).toBe('mistral');
    const gated = await run(['inspect', '--model', 'lab/gated']);
    expect(gated.status).toBe(2);
    expect(gated.stderr).toMatch(/gated or private: .*--token or \$HF_TOKEN/);
    expect((await run(['inspect', '--model', 'lab/gated', '--token', 'hf_secret'])).status).toBe(0);
  });
});

describe('files over 2 GiB', () => {
  it('are chosen like any other (read tensor by tensor in Node and the page); without a cache to stream into, openFile refuses one before downloading it', async () => {
    const files = [{ path: 'config.json', size: 600 }, { path: 'tokenizer.json', size: 1e6 }, { path: 'model.safetensors.index.json', size: 2e4 }, { path: 'model-00001-of-00002.safetensors', size: 9.94e9 }, { path: 'model-00002-of-00002.safetensors', size: 4.54e9 }];
    const id = parseHubId('mistralai/Mistral-7B-v0.1');
    expect(chooseFiles(id, files).map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const fetched: string[] = [];
    const client = new HubClient({ hubUrl: 'http://127.0.0.1:9', fetch: (url) => (fetched.push(String(url)), Promise.reject(new Error('no network in this test'))) });
    await expect(client.openFile(id, files[3])).rejects.toThrow(/model-00001-of-00002\.safetensors is 9\.9 GB: without a disk cache to stream it into .* a file over 2 GiB cannot be downloaded into memory; the command line \(npx lenspress … --model mistralai\/Mistral-7B-v0\.1\) loads it/);
    expect(fetched).toEqual([]);
  });
});
