/**
 * The model store and the hub download, against a local HTTP server that serves the
 * Hugging Face hub's URL layout (/{repo}/resolve/{revision}/{path}, with the hub's 302 to
 * a content URL).
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_MODELS } from '../../src/core/model/registry.ts';
import { locateModelFile } from '../../src/node/model-store.ts';
import { storiesPath } from '../helpers/stories.ts';

const model = KNOWN_MODELS.stories260K;
const file = model.files.weights;
let server: Server;
let hubUrl = '';
let corrupt = false;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const url = req.url ?? '';
    const m = url.match(/^\/karpathy\/tinyllamas\/resolve\/main\/stories260K\/([\w.]+)$/);
    if (m) {
      res.writeHead(302, { location: `/cdn/${m[1]}` }); // the hub redirects to its CDN
      return res.end();
    }
    const c = url.match(/^\/cdn\/([\w.]+)$/);
    if (c && existsSync(storiesPath(c[1]))) {
      const bytes = readFileSync(storiesPath(c[1]));
      if (corrupt) bytes[100] ^= 0xff;
      res.writeHead(200, { 'content-length': bytes.byteLength });
      return res.end(bytes);
    }
    res.writeHead(404);
    res.end('Entry not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lenspress-store-'));

describe('model store', () => {
  it('downloads from the hub layout into the cache, verifies sha256, then reuses the cache', async () => {
    const cacheDir = tmp(), storeDir = tmp();
    const progress: number[] = [];
    const got = await locateModelFile(model, file, { storeDir, cacheDir, hubUrl, onProgress: (_f, received) => progress.push(received) });
    expect(got.sha256).toBe(file.sha256);
    expect(got.path).toBe(path.join(cacheDir, 'karpathy/tinyllamas/main/stories260K', file.name));
    expect(progress.at(-1)).toBe(file.bytes);
    const before = requests;
    await locateModelFile(model, file, { storeDir, cacheDir, hubUrl });
    expect(requests).toBe(before); // served from the cache
    expect(readdirSync(path.dirname(got.path)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('refuses a download whose sha256 is wrong, and leaves nothing in the cache', async () => {
    const cacheDir = tmp();
    corrupt = true;
    try {
      await expect(locateModelFile(model, file, { storeDir: tmp(), cacheDir, hubUrl })).rejects.toThrow(/sha256 is [0-9a-f]{64}, expected b0a507e7/);
    } finally {
      corrupt = false;
    }
    expect(existsSync(path.join(cacheDir, 'karpathy/tinyllamas/main/stories260K', file.name))).toBe(false);
  });

  it('says where it looked when the hub answers 404', async () => {
    const bogus = { ...model, hub: { ...model.hub, folder: 'nope' } };
    await expect(locateModelFile(bogus, file, { storeDir: tmp(), cacheDir: tmp(), hubUrl })).rejects.toThrow(/not in .* and downloading it failed: .*answered 404.*LENSPRESS_MODELS/);
  });

  it('says so when the hub cannot be reached', async () => {
    await expect(locateModelFile(model, file, { storeDir: tmp(), cacheDir: tmp(), hubUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/could not reach http:\/\/127.0.0.1:9/);
  });

  it('rejects a truncated file in the store with the expected checksum and size', async () => {
    const storeDir = tmp();
    mkdirSync(path.join(storeDir, 'stories260K'));
    writeFileSync(path.join(storeDir, 'stories260K', file.name), readFileSync(storiesPath(file.name)).subarray(0, 1000));
    await expect(locateModelFile(model, file, { storeDir, cacheDir: tmp(), hubUrl })).rejects.toThrow(/stories260K.bin: sha256 is .* expected b0a507e7.*1000 bytes, expected 1056540/);
  });
});
