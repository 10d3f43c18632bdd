/**
 * How the page reads model files of any size (issue 7), in Node with the page's own modules:
 * - Cache Storage in parts (src/browser/cache-storage.ts) over an in-memory twin of the Cache
 *   API: a streamed file's bytes, sha256 and any range across part boundaries come back
 *   exactly; a download that never committed, or a torn entry, counts as not cached and its
 *   parts are removed; a full quota gives a message that says what to do.
 * - The hub client with that cache and streamAbove 0 (as the page runs it) against the local
 *   mock hub: a GGUF streams into parts, opens tensor by tensor with the same weights as the
 *   whole-buffer reader, and a second open downloads nothing.
 * - A picked File as a ByteSource (src/browser/blob-source.ts): a GGUF opens through it with
 *   the same weights, and its header alone gives the shape and the projections' memory equal
 *   to the count from the loaded weights.
 * The browser's real Cache Storage runs the same code in tests/e2e/model-picker.spec.ts and
 * quantized-page.spec.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobSource } from '../../src/browser/blob-source.ts';
import { type CacheLike, cacheStorageBytes, type CacheStorageLike } from '../../src/browser/cache-storage.ts';
import { localShape, planLocal } from '../../src/browser/local-model.ts';
import { openGgufHeader, parseGguf } from '../../src/core/formats/gguf.ts';
import { ggufConfig, ggufProjectionBytes, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { HubClient } from '../../src/core/hub/hub-client.ts';
import { parseHubId } from '../../src/core/hub/hub-id.ts';
import { sha256OfSource } from '../../src/core/hub/sha256.ts';
import { estimateMemory } from '../../src/core/model/memory.ts';
import { openGgufBytes, openGgufSource } from '../../src/core/model/open-formats.ts';
import { asFloat32 } from '../../src/core/model/quantized.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { writeGgufCheckpoint } from '../../src/node/write-checkpoint.ts';
import { type MockHub, startMockHub } from '../helpers/mock-hub.ts';

/** The Cache API's surface in memory; `quota` makes put fail past that many stored bytes, as a full disk does. */
function memoryCaches(quota = Infinity): CacheStorageLike & { entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  const headers = new Map<string, Headers>();
  const cache: CacheLike = {
    match: async (key) => (entries.has(key) ? new Response(entries.get(key)!.slice() as Uint8Array<ArrayBuffer>, { headers: headers.get(key) }) : undefined),
    put: async (key, res) => {
      const bytes = new Uint8Array(await res.arrayBuffer());
      const used = [...entries.values()].reduce((s, b) => s + b.byteLength, 0);
      if (used + bytes.byteLength > quota) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
      entries.set(key, bytes);
      headers.set(key, res.headers);
    },
    delete: async (key) => headers.delete(key) && entries.delete(key),
    keys: async () => [...entries.keys()].map((url) => ({ url })),
  };
  return { entries, open: async () => cache };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const KEY = 'https://huggingface.co/lab/m/resolve/main/model.gguf';

describe('Cache Storage in parts', () => {
  it('a file streamed in random pieces comes back byte for byte, any range across parts, with its sha256', async () => {
    const storage = memoryCaches();
    const cache = cacheStorageBytes({ storage, partBytes: 1000 })!;
    const file = randomBytes(10_007, 1), r = mulberry32(2);
    const w = await cache.writer!(KEY);
    for (let at = 0; at < file.byteLength; ) {
      const n = Math.min(file.byteLength - at, 1 + Math.floor(r() * 2500));
      await w.write(file.subarray(at, at + n));
      at += n;
    }
    expect(w.sha256()).toBe(sha(file));
    const src = await w.commit();
    expect(src.size).toBe(10_007);
    expect([...storage.entries.keys()].filter((k) => k.includes('lenspress-part=')).length).toBe(11);
    for (let i = 0; i < 200; i++) {
      const offset = Math.floor(r() * file.byteLength), length = Math.floor(r() * (file.byteLength - offset + 1));
      expect(Buffer.from(await src.readRange(offset, length)).equals(Buffer.from(file.subarray(offset, offset + length))), `${offset}+${length}`).toBe(true);
    }
    await expect(src.readRange(10_000, 8)).rejects.toThrow(/truncated/);
    const again = (await cache.open!(KEY))!;
    expect(await sha256OfSource(again, undefined, 777)).toBe(sha(file));
  });

  it('a download that never committed is not cached, and the next download removes its parts; abort and restart leave nothing', async () => {
    const storage = memoryCaches();
    const cache = cacheStorageBytes({ storage, partBytes: 100 })!;
    const w = await cache.writer!(KEY);
    await w.write(randomBytes(450, 3)); // 4 parts stored, then the Worker is terminated
    expect(storage.entries.size).toBe(4);
    expect(await cache.open!(KEY)).toBeUndefined();
    const w2 = await cache.writer!(KEY);
    expect(storage.entries.size).toBe(0);
    await w2.write(randomBytes(250, 4));
    await w2.restart(); // the server ignored a Range request
    expect(storage.entries.size).toBe(0);
    const file = randomBytes(120, 5);
    await w2.write(file);
    expect(w2.sha256()).toBe(sha(file));
    await w2.abort();
    expect(storage.entries.size).toBe(0);
  });

  it('parts a stopped download left behind are swept by any later download once no part was written for an hour; a download going on is left alone', async () => {
    const storage = memoryCaches();
    let clock = 0;
    const cache = cacheStorageBytes({ storage, partBytes: 100, now: () => clock })!;
    const other = 'https://huggingface.co/lab/other/resolve/main/model.safetensors';
    const stopped = await cache.writer!(KEY);
    await stopped.write(randomBytes(350, 8)); // 3 parts, then the tab is closed
    clock = 59 * 60 * 1000;
    const going = await cache.writer!(other); // within the hour: kept
    expect([...storage.entries.keys()].filter((k) => k.startsWith(KEY))).toHaveLength(3);
    await going.write(randomBytes(150, 9));
    clock = 61 * 60 * 1000;
    await cache.writer!('https://huggingface.co/lab/third/resolve/main/model.gguf');
    expect([...storage.entries.keys()].filter((k) => k.startsWith(KEY))).toEqual([]); // swept
    expect([...storage.entries.keys()].filter((k) => k.startsWith(other))).toHaveLength(1); // its part is 2 minutes old: going on
    const src = await going.commit();
    expect(src.size).toBe(150);
  });

  it('a torn entry (a part evicted) counts as not cached and is removed', async () => {
    const storage = memoryCaches();
    const cache = cacheStorageBytes({ storage, partBytes: 100 })!;
    const w = await cache.writer!(KEY);
    await w.write(randomBytes(350, 6));
    await w.commit();
    storage.entries.delete(`${KEY}?lenspress-part=2`);
    expect(await cache.open!(KEY)).toBeUndefined();
    expect(storage.entries.size).toBe(0);
    // The first part gone: the rest are still found and removed.
    const w2 = await cache.writer!(KEY);
    await w2.write(randomBytes(350, 6));
    await w2.commit();
    storage.entries.delete(`${KEY}?lenspress-part=0`);
    expect(await cache.open!(KEY)).toBeUndefined();
    expect(storage.entries.size).toBe(0);
  });

  it('500 damaged index entries (seeded): each is treated as not cached and removed, or opens a source whose reads stay in range; nothing else is thrown', async () => {
    const r = mulberry32(11);
    const values = [0, 1, -1, 100, 350, 351, 3, 4, 2 ** 53, NaN, 1e308, '350', null, [], {}, 3.5];
    const pick = () => values[Math.floor(r() * values.length)];
    let opened = 0;
    for (let i = 0; i < 500; i++) {
      const storage = memoryCaches();
      const cache = cacheStorageBytes({ storage, partBytes: 100 })!;
      const w = await cache.writer!(KEY);
      await w.write(randomBytes(350, 12));
      await w.commit();
      const index = { size: 350, partBytes: 100, parts: 4, sha256: 'x' } as Record<string, unknown>;
      const field = ['size', 'partBytes', 'parts'][Math.floor(r() * 3)];
      index[field] = pick();
      const text = r() < 0.2 ? JSON.stringify(index).slice(0, Math.floor(r() * 40)) : JSON.stringify(index);
      storage.entries.set(`${KEY}?lenspress-parts=index`, new TextEncoder().encode(text));
      const src = await cache.open!(KEY);
      if (!src) {
        expect([...storage.entries.keys()]).toEqual([]);
        continue;
      }
      opened++;
      expect(src.size).toBe(350); // only an index equal to what was stored opens
      await expect(src.readRange(300, 100)).rejects.toThrow(/truncated/);
    }
    console.log(`damaged Cache Storage index entries: 500 tried, ${opened} unchanged in effect (opened), ${500 - opened} refused and removed`);
  });

  it('a full quota stops the download with what to do', async () => {
    const cache = cacheStorageBytes({ storage: memoryCaches(250), partBytes: 100 })!;
    const w = await cache.writer!(KEY);
    await expect(w.write(randomBytes(450, 7))).rejects.toThrow(/^the browser refused to store model\.gguf in its cache( \(this site may use .* of disk and uses .*\))?: Quota exceeded\. Free disk space or clear this site's data, then Run again$/);
    await expect(w.write(randomBytes(450, 7))).rejects.toMatchObject({ code: 'storage-full' });
  });
});

describe('the page\'s hub client and picked files', () => {
  let hub: MockHub;
  let dir: string, gguf: string;
  const model = randomModel(tinyConfig('mistral', { n_layers: 2 }), 9);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-page-files-'));
    gguf = path.join(dir, 'm-q4_0.gguf');
    await writeGgufCheckpoint(model, gguf, { type: 'Q4_0' });
    hub = await startMockHub({ 'lab/m': { dir } });
  });
  afterAll(async () => {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a hub GGUF streams into parts (streamAbove 0) and opens tensor by tensor, as read whole; the second open downloads nothing', async () => {
    const storage = memoryCaches();
    const client = new HubClient({ hubUrl: hub.url, fetch, cache: cacheStorageBytes({ storage, partBytes: 64 * 1024 }), streamAbove: 0 });
    const id = parseHubId('lab/m:m-q4_0.gguf');
    const file = (await client.listFiles(id)).find((f) => f.path === 'm-q4_0.gguf')!;
    const bytes = new Uint8Array(readFileSync(gguf));
    expect(file.sha256).toBe(sha(bytes));
    const src = await client.openFile(id, file);
    expect(src.size).toBe(bytes.byteLength);
    expect(storage.entries.size).toBe(Math.ceil(bytes.byteLength / (64 * 1024)) + 1);
    const viaParts = await openGgufSource(src, 'm-q4_0.gguf');
    const whole = await openGgufBytes(bytes, 'm-q4_0.gguf');
    expect(viaParts.model.config).toEqual(whole.model.config);
    expect(Buffer.from(asFloat32(viaParts.model.weights.blocks[1].W_out).buffer).equals(Buffer.from(asFloat32(whole.model.weights.blocks[1].W_out).buffer))).toBe(true);
    const downloads = hub.requests.filter((r) => r.includes('/cdn/')).length;
    await client.openFile(id, file);
    expect(hub.requests.filter((r) => r.includes('/cdn/')).length).toBe(downloads);
  });

  it('a hub GGUF\'s header by Range requests gives the shape before any download, also from a server that ignores Range', async () => {
    const client = new HubClient({ hubUrl: hub.url, fetch });
    const id = parseHubId('lab/m:m-q4_0.gguf');
    const file = (await client.listFiles(id)).find((f) => f.path === 'm-q4_0.gguf')!;
    const bytes = new Uint8Array(readFileSync(gguf));
    const want = ggufToModel(parseGguf(bytes, 'm-q4_0.gguf'));
    for (const ignoreRange of [false, true]) {
      hub.ignoreRange = ignoreRange;
      const before = hub.requests.length;
      const header = await openGgufHeader(client.remoteSource(id, { ...file, size: file.size! }), { firstRead: 4096 });
      expect(ggufConfig(header), `ignoreRange ${ignoreRange}`).toEqual(want.config);
      expect(estimateMemory(want.config, 64, undefined, ggufProjectionBytes(header, want.config))).toEqual(estimateMemory(want.config, 64, undefined, want.weights));
      expect(hub.requests.slice(before).some((r) => /bytes=0-4095/.test(r))).toBe(true);
      expect(Buffer.from(await client.readRange(id, file, 1000, 77)).equals(Buffer.from(bytes.subarray(1000, 1077)))).toBe(true);
    }
    hub.ignoreRange = false;
    await expect(client.readRange(id, file, bytes.byteLength - 10, 20)).rejects.toThrow(/asked for bytes .* the hub sent 10/);
  });

  it('a picked GGUF File opens through blobSource; its header alone gives the shape and the projections\' memory', async () => {
    const bytes = new Uint8Array(readFileSync(gguf));
    const picked = new File([bytes], 'm-q4_0.gguf');
    const opened = await openGgufSource(blobSource(picked, picked.name), picked.name);
    const want = ggufToModel(parseGguf(bytes, 'm-q4_0.gguf'));
    expect(opened.model.config).toEqual(want.config);
    expect(Buffer.from(asFloat32(opened.model.weights.W_E).buffer).equals(Buffer.from(want.weights.W_E.buffer))).toBe(true);
    const shape = (await localShape(planLocal([picked])))!;
    expect(shape.config).toEqual(want.config);
    expect(estimateMemory(shape.config, 64, undefined, shape.projections)).toEqual(estimateMemory(want.config, 64, undefined, want.weights));
    expect(shape.config.source_dtype).toBe('q4_0');
    await expect(blobSource(picked, picked.name).readRange(bytes.byteLength - 4, 8)).rejects.toThrow(/truncated/);
  });
});
