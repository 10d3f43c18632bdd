/**
 * The hub client's byte cache (ByteCache) over the browser's Cache Storage, so a model
 * downloaded once is not downloaded again, even after a reload. Available in the page and in
 * Workers.
 * Small files are one entry each (`match`/`put`). Weights files stream in (`writer`): the
 * download is cut into parts of PART_BYTES, each its own entry, hashed as it passes, and an
 * index entry written last says how many parts make the file; `open` reads it back as a
 * ByteSource, a range at a time from the parts' Blobs (which the browser keeps on disk). So a
 * 4 GB GGUF is never one buffer, neither while it downloads nor while it opens, and a download
 * stopped or broken half-way leaves no index: the file counts as not cached, and its parts are
 * deleted by the next download of it, or by any download once they are an hour old (a tab
 * closed mid-download cannot clean up after itself). HubClient puts or commits an entry only
 * after the file's size and sha256 were checked.
 */
import { LenspressError } from '../core/errors.ts';
import { type ByteSource, checkRange } from '../core/formats/byte-source.ts';
import type { ByteCache, CacheWriter } from '../core/hub/hub-client.ts';
import { Sha256 } from '../core/hub/sha256.ts';
import { formatBytes } from '../core/model/memory.ts';

export const MODEL_CACHE = 'lenspress-models-v1';
/** Bytes per Cache Storage entry of a streamed file: one part is the most a download holds in memory. */
export const PART_BYTES = 64 * 2 ** 20;

/** The Cache API's surface used here (CacheStorage in browsers; tests pass an in-memory twin). */
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
}
export interface CacheLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, res: Response): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<readonly { url: string }[]>;
}

/** Parts without an index whose newest part is older than this were left by a download that stopped (a closed tab, a switched model). */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;
const WRITTEN = 'x-lenspress-written';

interface PartsIndex {
  size: number;
  partBytes: number;
  parts: number;
  sha256: string;
}

const withQuery = (key: string, q: string) => `${key}${key.includes('?') ? '&' : '?'}${q}`;
const PART = /[?&]lenspress-part=\d+$/;
const indexKey = (key: string) => withQuery(key, 'lenspress-parts=index');
const partKey = (key: string, i: number) => withQuery(key, `lenspress-part=${i}`);

function isIndex(x: unknown): x is PartsIndex {
  const o = x as PartsIndex;
  return typeof o === 'object' && o !== null && [o.size, o.partBytes, o.parts].every((n) => Number.isSafeInteger(n) && n >= 0) && o.partBytes > 0 && o.parts === Math.ceil(o.size / o.partBytes);
}

/** Why a part could not be stored, in words a reader can act on (quota first: it is the usual cause). */
async function storageError(fileKey: string, e: unknown): Promise<LenspressError> {
  const est = await (globalThis.navigator as { storage?: { estimate(): Promise<{ quota?: number; usage?: number }> } } | undefined)?.storage?.estimate().catch(() => undefined);
  const room = est?.quota !== undefined ? ` (this site may use ${formatBytes(est.quota)} of disk and uses ${formatBytes(est.usage ?? 0)})` : '';
  return new LenspressError('storage-full', `the browser refused to store ${fileKey.split('/').pop()} in its cache${room}: ${String((e as Error)?.message ?? e).replace(/\.$/, '')}. Free disk space or clear this site's data, then Run again`);
}

export interface CacheStorageOptions {
  name?: string;
  /** The clock parts are stamped with (tests move it). */
  now?: () => number;
  /** Part size (tests use a few bytes to exercise the boundaries). */
  partBytes?: number;
  /** Cache Storage itself; default the global `caches`. */
  storage?: CacheStorageLike;
}

export function cacheStorageBytes(opts: CacheStorageOptions = {}): ByteCache | undefined {
  const storage = opts.storage ?? (typeof caches === 'undefined' ? undefined : (caches as unknown as CacheStorageLike));
  if (!storage) return undefined; // e.g. an insecure origin: download every time, small files only
  const name = opts.name ?? MODEL_CACHE;
  const partBytes = opts.partBytes ?? PART_BYTES;
  const cache = () => storage.open(name);
  const now = opts.now ?? Date.now;

  /**
   * Deletes the parts of downloads that stopped without committing and are not going on
   * (no part written for ABANDONED_AFTER_MS): a stopped 4 GB download must not keep its disk
   * space. A download going on in another tab writes a part at least every 64 MiB.
   */
  async function sweepAbandoned(c: CacheLike): Promise<void> {
    const byBase = new Map<string, string[]>();
    for (const u of (await c.keys()).map((r) => r.url).filter((x) => PART.test(x))) byBase.set(u.replace(PART, ''), [...(byBase.get(u.replace(PART, '')) ?? []), u]);
    for (const [base, parts] of byBase) {
      if (await c.match(indexKey(base))) continue;
      let newest = -Infinity;
      for (const u of parts) newest = Math.max(newest, Number((await c.match(u))?.headers.get(WRITTEN) ?? 0));
      if (now() - newest > ABANDONED_AFTER_MS) await removeParts(c, base, parts);
    }
  }

  /** The index and every part of the file, listed or left by a download that never committed (from the cache's keys, so a gap does not hide the rest; `parts` when the caller has just listed them). */
  async function removeParts(c: CacheLike, key: string, parts?: readonly string[]): Promise<void> {
    await c.delete(indexKey(key));
    const href = new URL(key).href; // the cache lists its keys as normalised URLs
    for (const u of parts ?? (await c.keys()).map((r) => r.url).filter((x) => PART.test(x) && new URL(x.replace(PART, '')).href === href)) await c.delete(u);
  }

  async function open(key: string): Promise<(ByteSource & { close(): Promise<void> }) | undefined> {
    const c = await cache();
    const res = await c.match(indexKey(key));
    if (!res) return undefined;
    const idx: unknown = await res.json().catch(() => undefined);
    if (!isIndex(idx)) {
      await removeParts(c, key);
      return undefined;
    }
    // Every part must be there (a browser evicting storage may leave a torn entry): else not cached.
    const blobs: Blob[] = [];
    for (let i = 0; i < idx.parts; i++) {
      const part = await c.match(partKey(key, i));
      const blob = part ? await part.blob() : undefined;
      const want = Math.min(idx.partBytes, idx.size - i * idx.partBytes);
      if (!blob || blob.size !== want) {
        await removeParts(c, key);
        return undefined;
      }
      blobs.push(blob);
    }
    const src = { name: key, size: idx.size };
    return {
      ...src,
      async readRange(offset, length) {
        checkRange(src, offset, length, 'a read');
        const out = new Uint8Array(length);
        for (let at = offset; at < offset + length; ) {
          const i = Math.floor(at / idx.partBytes), start = at - i * idx.partBytes;
          const n = Math.min(idx.partBytes - start, offset + length - at);
          out.set(new Uint8Array(await blobs[i].slice(start, start + n).arrayBuffer()), at - offset);
          at += n;
        }
        return out;
      },
      close: async () => void (blobs.length = 0),
    };
  }

  async function writer(key: string): Promise<CacheWriter> {
    const c = await cache();
    await removeParts(c, key); // what an earlier, broken download of this file left
    await sweepAbandoned(c);
    let part = new Uint8Array(partBytes), fill = 0, parts = 0, size = 0, hash = new Sha256(), digest: string | undefined;
    const flush = async () => {
      if (fill === 0) return;
      const body = part.subarray(0, fill);
      try {
        await c.put(partKey(key, parts), new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(fill), [WRITTEN]: String(now()) } }));
      } catch (e) {
        throw await storageError(key, e);
      }
      parts++;
      part = new Uint8Array(partBytes); // the stored Response may still read the old one
      fill = 0;
    };
    return {
      async write(chunk) {
        hash.update(chunk);
        size += chunk.byteLength;
        for (let at = 0; at < chunk.byteLength; ) {
          const n = Math.min(partBytes - fill, chunk.byteLength - at);
          part.set(chunk.subarray(at, at + n), fill);
          fill += n;
          at += n;
          if (fill === partBytes) await flush();
        }
      },
      async restart() {
        await removeParts(c, key);
        [fill, parts, size, hash, digest] = [0, 0, 0, new Sha256(), undefined];
      },
      sha256: () => (digest ??= hash.hex()),
      async commit() {
        await flush();
        const idx: PartsIndex = { size, partBytes, parts, sha256: (digest ??= hash.hex()) };
        try {
          await c.put(indexKey(key), new Response(JSON.stringify(idx), { headers: { 'content-type': 'application/json' } }));
        } catch (e) {
          throw await storageError(key, e);
        }
        const opened = await open(key);
        if (!opened) throw new LenspressError('cache-damaged', `${key}: the browser's cache lost parts of the file just stored; clear this site's data and Run again`);
        return opened;
      },
      async abort() {
        await removeParts(c, key);
      },
    };
  }

  return {
    async match(key) {
      const res = await (await cache()).match(key);
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      const res = new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) } });
      // A full disk must not fail the run: the file is in memory already.
      await (await cache()).put(key, res).catch(() => undefined);
    },
    open,
    writer,
  };
}
