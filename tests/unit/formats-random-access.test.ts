/**
 * Model files read through a ByteSource (header from a prefix, then tensor by tensor) instead
 * of one buffer: the weights are bit-identical to the whole-buffer readers' (forced tiny reads
 * and header prefixes exercise every loop), malformed files give the same errors, the hub
 * streams large files to disk, and a real GGUF file past 4 GiB (a sparse hole before its
 * tensors) opens in Node with the same logits as the same model without the hole.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLenspressError } from '../../src/core/errors.ts';
import { type ByteSource, bufferSource } from '../../src/core/formats/byte-source.ts';
import { openGguf, parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ggufFromModel, ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { openSafetensors, parseSafetensors, readSafetensor } from '../../src/core/formats/safetensors.ts';
import { openGgufSource, openHfFolder } from '../../src/core/model/open-formats.ts';
import { isQuantized, type Matrix } from '../../src/core/model/quantized.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { FileHandleSource, openFileSource, sha256Source } from '../../src/node/file-source.ts';
import { hubSource } from '../../src/node/hub.ts';
import { nodeBackend, openModel } from '../../src/node/open-model.ts';
import { sha256 } from '../../src/node/model-store.ts';
import { writeGgufCheckpoint, writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { HookedModel } from '../../src/core/engine/hooked-model.ts';
import { type MockHub, startMockHub } from '../helpers/mock-hub.ts';
import { writePaddedGguf } from '../helpers/padded-gguf.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lenspress-ra-'));
const model = randomModel(tinyConfig('mistral', { n_layers: 2 }), 11);

const bytesOf = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** Every weight as bytes (quantised: type, shape and blocks), by TransformerLens name. */
function weightBytes(m: LoadedModel): Map<string, string> {
  const out = new Map<string, string>();
  const put = (name: string, x: Matrix) => {
    const b = isQuantized(x) ? x.blocks : bytesOf(x);
    out.set(name, `${isQuantized(x) ? `${x.type} ${x.rows}×${x.cols}` : 'f32'} ${sha256(b)}`);
  };
  put('W_E', m.weights.W_E);
  put('W_U', m.weights.W_U);
  put('ln_final_w', m.weights.ln_final_w);
  m.weights.blocks.forEach((b, l) => Object.entries(b).forEach(([k, v]) => put(`blocks.${l}.${k}`, v as Matrix)));
  return out;
}

/** A source over bytes that copies every range into a fresh buffer, counting reads (as a file would). */
function copyingSource(bytes: Uint8Array, name: string): ByteSource & { reads: number } {
  const src = bufferSource(bytes, name);
  const s = { name, size: bytes.byteLength, reads: 0, readRange: async (o: number, n: number) => (s.reads++, (await src.readRange(o, n)).slice()) };
  return s;
}

/** The outcome of a parse: 'ok' with a digest of what was read, or the error's code and message. */
async function outcome(f: () => Promise<string>): Promise<string> {
  try {
    return `ok ${await f()}`;
  } catch (e) {
    if (!isLenspressError(e)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

describe('GGUF through a FileHandle', () => {
  for (const type of ['F32', 'Q8_0', 'Q4_0'] as const) {
    it(`${type}: 61-byte reads and a 64-byte first header read give the whole-buffer weights, bit for bit`, async () => {
      const file = path.join(tmp(), `m.${type}.gguf`);
      await writeGgufCheckpoint(model, file, { type });
      const whole = ggufToModel(parseGguf(new Uint8Array(await readFile(file)), file));
      const src = await FileHandleSource.open(file, { chunkBytes: 61 });
      try {
        const g = await openGguf(src, { firstRead: 64 });
        expect(g.size).toBe(statSync(file).size);
        expect(weightBytes(ggufToModel(g))).toEqual(weightBytes(whole));
        // the metadata (a 32000-token vocabulary: ~700 KB of header) is read whole too
        expect(g.metadata.get('tokenizer.ggml.tokens')).toEqual(parseGguf(new Uint8Array(await readFile(file))).metadata.get('tokenizer.ggml.tokens'));
      } finally {
        await src.close();
      }
    });
  }

  it('malformed files give the same outcome, error and message as parseGguf (truncations, offsets past the end, flipped bytes)', async () => {
    const { metadata, tensors } = ggufFromModel(randomModel(tinyConfig('mistral', { n_layers: 1, d_vocab: 40 }), 3), 'Q8_0');
    const good = writeGguf(metadata, tensors);
    const rand = mulberry32(7);
    const variants: Uint8Array[] = [good];
    for (let i = 0; i < 150; i++) {
      const v = good.slice();
      if (i % 3 === 0) variants.push(v.subarray(0, Math.floor(rand() * v.length)));
      else if (i % 3 === 1) {
        // a u64 field (counts, ne, offsets) somewhere in the header set past the end of the file
        new DataView(v.buffer).setBigUint64(Math.floor(rand() * (parseGguf(good).dataOffset - 8)), BigInt(v.length + 32 * Math.floor(rand() * 1000)), true);
        variants.push(v);
      } else {
        for (let k = 0; k < 4; k++) v[Math.floor(rand() * v.length)] ^= 1 + Math.floor(rand() * 255);
        variants.push(v);
      }
    }
    const digest = (m: ReturnType<typeof parseGguf>) => [...m.tensors.values()].map((t) => `${t.name}:${t.offset}:${t.nbytes}:${t.typeName === 'Q8_0' || t.typeName === 'F32' ? sha256(bytesOf(readGgufTensor(m, t.name))) : ''}`).join(',');
    const kinds = new Set<string>();
    for (const v of variants) {
      const a = await outcome(async () => digest(parseGguf(v, 'v.gguf')));
      const b = await outcome(async () => digest(await openGguf(copyingSource(v, 'v.gguf'), { firstRead: 16 })));
      expect(b).toBe(a);
      kinds.add(a.split(/[: ]/)[0]);
    }
    // the variants reach success, truncation and bad headers (offsets and counts past the end)
    for (const k of ['ok', 'truncated-file', 'bad-header']) expect(kinds).toContain(k);
  });

  it('a truncated file on disk: the tensor past the end is named, before anything is allocated', async () => {
    const file = path.join(tmp(), 'cut.gguf');
    await writeGgufCheckpoint(model, file, { type: 'Q8_0' });
    const bytes = new Uint8Array(await readFile(file));
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    const src = (await openFileSource(file))!;
    await expect(openGguf(src)).rejects.toThrow(/cut\.gguf: tensor output\.weight \(Q8_0, \[32000, 64\]\) needs bytes \d+…\d+, but the file has \d+: truncated/);
    await expect(src.readRange(src.size - 10, 11)).rejects.toThrow(/needs bytes \d+…\d+, but the file has \d+: truncated/);
    await src.close();
    expect(await openFileSource(path.join(tmp(), 'absent.gguf'))).toBeNull();
  });

  it('sha256Source equals the hash of the whole file', async () => {
    const file = path.join(tmp(), 'h.gguf');
    await writeGgufCheckpoint(model, file, { type: 'Q4_0' });
    const src = (await openFileSource(file))!;
    expect(await sha256Source(src, 1000)).toBe(sha256(new Uint8Array(await readFile(file))));
    await src.close();
  });
});

describe('safetensors through a FileHandle', () => {
  it('a 3-shard bfloat16 checkpoint: 61-byte reads give the whole-buffer weights, bit for bit', async () => {
    const dir = tmp();
    await writeHfCheckpoint(model, dir, { shards: 3, dtype: 'bfloat16' });
    const read = (f: string) => readFile(path.join(dir, f)).then((b) => new Uint8Array(b), () => null);
    const whole = await openHfFolder({ name: dir, read });
    expect(whole.provenanceFile.bytes).toBeDefined(); // read whole: no `open`
    const handles: FileHandleSource[] = [];
    const opened = await openHfFolder({
      name: dir,
      read,
      open: async (f) => {
        const s = await openFileSource(path.join(dir, f), { chunkBytes: 61 });
        if (s) handles.push(s);
        return s;
      },
    });
    expect(handles.length).toBe(3);
    expect(opened.format).toBe(whole.format);
    expect(weightBytes(opened.model)).toEqual(weightBytes(whole.model));
    expect(opened.provenanceFile.bytes).toBeUndefined();
    expect(await sha256Source(opened.provenanceFile.source)).toBe(sha256((await read('model-00001-of-00003.safetensors'))!));
    await Promise.all(handles.map((h) => h.close()));
  });

  it('malformed files give the same outcome, error and message as parseSafetensors', async () => {
    const dir = tmp();
    await writeHfCheckpoint(randomModel(tinyConfig('mistral', { n_layers: 1, d_vocab: 40 }), 3), dir, { tokenizer: false });
    const good = new Uint8Array(await readFile(path.join(dir, 'model.safetensors')));
    const rand = mulberry32(9);
    const variants: Uint8Array[] = [good, good.subarray(0, 3), good.subarray(0, 9)];
    for (let i = 0; i < 100; i++) {
      const v = good.slice();
      if (i % 2 === 0) variants.push(v.subarray(0, Math.floor(rand() * v.length)));
      else {
        v[Math.floor(rand() * Math.min(v.length, 400))] ^= 1 + Math.floor(rand() * 255);
        variants.push(v);
      }
    }
    const digest = (f: ReturnType<typeof parseSafetensors>) => [...f.tensors.keys()].map((n) => sha256(bytesOf(readSafetensor(f, n)))).join(',');
    let errors = 0;
    for (const v of variants) {
      const a = await outcome(async () => digest(parseSafetensors(v, 'v.safetensors')));
      expect(await outcome(async () => digest(await openSafetensors(copyingSource(v, 'v.safetensors'))))).toBe(a);
      if (!a.startsWith('ok')) errors++;
    }
    expect(errors).toBeGreaterThan(50);
  });
});

describe('the hub: files above the stream threshold go to disk', () => {
  let hub: MockHub;
  const dir = tmp();
  beforeAll(async () => {
    await writeGgufCheckpoint(model, path.join(dir, 'm-q8.gguf'), { type: 'Q8_0' });
    hub = await startMockHub({ 'lab/gguf': { dir } });
  });
  afterAll(() => hub.close());

  it('streams a GGUF to the cache (resuming a broken transfer), opens it tensor by tensor, and reopens it from the cache', async () => {
    const cacheDir = tmp();
    const src = await hubSource('lab/gguf:m-q8.gguf', { hubUrl: hub.url, cacheDir, streamAbove: 1000 });
    hub.breakNextAfter = 200_000;
    const source = (await src.open('m-q8.gguf'))!;
    expect(source).toBeInstanceOf(FileHandleSource); // from disk, not a buffer
    expect(hub.requests.some((r) => r.includes('m-q8.gguf bytes=200000-'))).toBe(true);
    const fromHub = await openGgufSource(source, 'm-q8.gguf');
    await source.close!();
    const local = new Uint8Array(await readFile(path.join(dir, 'm-q8.gguf')));
    expect(weightBytes(fromHub.model)).toEqual(weightBytes(ggufToModel(parseGguf(local))));
    const cached = (await readdir(cacheDir, { recursive: true })).filter((f) => f.includes('m-q8.gguf'));
    expect(cached.length).toBe(1);
    expect(cached[0]).not.toMatch(/\.part$/);
    const before = hub.requests.filter((r) => r.includes('/cdn/')).length;
    const again = (await (await hubSource('lab/gguf:m-q8.gguf', { hubUrl: hub.url, cacheDir, streamAbove: 1000 })).open('m-q8.gguf'))!;
    expect(await sha256Source(again)).toBe(sha256(local));
    await again.close!();
    expect(hub.requests.filter((r) => r.includes('/cdn/')).length).toBe(before);
  });

  it('a server that ignores the Range request: the partial file on disk starts over, and the result is whole', async () => {
    const cacheDir = tmp();
    const src = await hubSource('lab/gguf:m-q8.gguf', { hubUrl: hub.url, cacheDir, streamAbove: 1000 });
    hub.breakNextAfter = 150_000;
    hub.ignoreRange = true;
    try {
      const s = (await src.open('m-q8.gguf'))!;
      expect(hub.requests.some((r) => r.includes('m-q8.gguf bytes=150000-'))).toBe(true);
      expect(await sha256Source(s)).toBe(sha256(new Uint8Array(await readFile(path.join(dir, 'm-q8.gguf')))));
      await s.close!();
    } finally {
      hub.ignoreRange = undefined;
    }
  });

  it('a damaged stream is refused by its sha256 and leaves no file in the cache', async () => {
    const cacheDir = tmp();
    const src = await hubSource('lab/gguf:m-q8.gguf', { hubUrl: hub.url, cacheDir, streamAbove: 1000 });
    hub.corruptAt = 5000;
    try {
      await expect(src.open('m-q8.gguf')).rejects.toThrow(/sha256 is [0-9a-f]{64}, the hub lists [0-9a-f]{64}: the download is damaged/);
    } finally {
      hub.corruptAt = undefined;
    }
    expect((await readdir(cacheDir, { recursive: true })).filter((f) => f.includes('m-q8.gguf'))).toEqual([]);
  });

  it('below the threshold the file is downloaded into memory, as the page does', async () => {
    const src = await hubSource('lab/gguf:m-q8.gguf', { hubUrl: hub.url, cacheDir: tmp() });
    const s = (await src.open('m-q8.gguf'))!;
    expect(s).not.toBeInstanceOf(FileHandleSource);
    expect(s.size).toBe(statSync(path.join(dir, 'm-q8.gguf')).size);
  });
});

describe('a GGUF file past 4 GiB, for real', () => {
  it('opens in Node (fs.readFile cannot read it) with the weights and logits of the same model without the hole', { timeout: 180_000 }, async () => {
    const d = tmp();
    const padded = path.join(d, 'padded.gguf'), plain = path.join(d, 'plain.gguf');
    const PAD = 4_400_000_000; // a multiple of the 32-byte alignment; past 4 GiB, so offsets overflow 32 bits too
    await writePaddedGguf(model, padded, PAD);
    await writeGgufCheckpoint(model, plain, { type: 'Q8_0', name: 'padded' });
    const size = statSync(padded).size;
    expect(size).toBeGreaterThan(2 ** 32);
    console.log(`padded GGUF: ${size} bytes, ${statSync(padded).blocks * 512} on disk`);
    await expect(readFile(padded)).rejects.toMatchObject({ code: 'ERR_FS_FILE_TOO_LARGE' });

    const rss0 = process.memoryUsage().rss;
    const big = await openModel(padded);
    const rss1 = process.memoryUsage().rss;
    console.log(`opening it: rss ${(rss0 / 2 ** 20).toFixed(0)} → ${(rss1 / 2 ** 20).toFixed(0)} MiB, max rss ${(process.resourceUsage().maxRSS / 2 ** 10).toFixed(0)} MiB (the file is ${(size / 2 ** 30).toFixed(2)} GiB)`);
    expect(rss1 - rss0).toBeLessThan(1.5 * 2 ** 30); // the hole is never read into memory (only hashed in 64 MiB pieces)
    const small = await openModel(plain);
    expect(big.provenance.format).toBe('GGUF v3 (q8_0)');
    expect(big.provenance.sha256).not.toBe(small.provenance.sha256);
    expect(weightBytes(big.model)).toEqual(weightBytes(small.model));
    const ids = big.tokenizer.encode('The quick brown fox jumps over the lazy dog');
    expect(ids).toEqual(small.tokenizer.encode('The quick brown fox jumps over the lazy dog'));
    const logits = async (m: LoadedModel) => (await new HookedModel(m, nodeBackend()).run(ids, ['logits'])).get('logits')!.data;
    const a = await logits(big.model), b = await logits(small.model);
    expect(a.length).toBe(ids.length * 32000);
    expect(Array.from(a)).toEqual(Array.from(b)); // same weights, same graph: identical
    await rm(d, { recursive: true, force: true });
  });
});
