/**
 * The hub in Node: the shared HubClient with a file-backed cache (the Cache API's shape),
 * the global fetch, $HF_TOKEN, and progress on stderr. A hub id becomes a FileSource, so
 * Hugging Face folders open through the same loader as local folders, file by file.
 * Weights files open as ByteSources (`open`): above `streamAbove` bytes a download goes
 * straight to a file in the cache, and the cached file is read tensor by tensor, so files
 * over 2 GiB (Mistral 7B) load. The page does the same over Cache Storage (src/browser/cache-storage.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { type ByteCache, type CacheWriter, chooseFiles, type DownloadProgress, HubClient } from '../core/hub/hub-client.ts';
import { type HubId, parseHubId } from '../core/hub/hub-id.ts';
import { FileHandleSource, openFileSource } from './file-source.ts';

export interface NodeHubOptions {
  hubUrl?: string;
  token?: string;
  cacheDir?: string;
  fetch?: typeof fetch;
  onProgress?: (p: DownloadProgress) => void;
  /** Weights files larger than this stream to disk (default 256 MiB; tests force a few bytes). */
  streamAbove?: number;
}

/** Cache entries are files named by the URL's path (readable) plus a hash (unambiguous). */
export class FileByteCache implements ByteCache {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    const url = new URL(key);
    const safe = url.pathname.split('/').filter((s) => s && s !== '..').join('/');
    return path.join(this.dir, url.host.replace(/[^\w.-]/g, '_'), `${safe}.${createHash('sha256').update(key).digest('hex').slice(0, 8)}`);
  }

  async match(key: string): Promise<Uint8Array | undefined> {
    const f = this.file(key);
    return existsSync(f) ? new Uint8Array(await readFile(f)) : undefined;
  }

  async open(key: string): Promise<FileHandleSource | undefined> {
    return (await openFileSource(this.file(key))) ?? undefined;
  }

  /** A `.part` file beside the entry, renamed into place by commit (a killed download leaves no entry). */
  async writer(key: string): Promise<CacheWriter> {
    const f = this.file(key);
    await mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.${Date.now()}.part`;
    const fh = await open(tmp, 'w');
    let hash = createHash('sha256');
    let at = 0;
    return {
      write: async (chunk) => {
        for (let done = 0; done < chunk.byteLength; ) done += (await fh.write(chunk, done, chunk.byteLength - done, at + done)).bytesWritten;
        hash.update(chunk);
        at += chunk.byteLength;
      },
      restart: async () => {
        await fh.truncate(0);
        hash = createHash('sha256');
        at = 0;
      },
      sha256: () => hash.copy().digest('hex'),
      commit: async () => {
        await fh.close();
        await rename(tmp, f).catch(async (e) => (await rm(tmp, { force: true }), Promise.reject(e)));
        return FileHandleSource.open(f);
      },
      abort: async () => {
        await fh.close().catch(() => {});
        await rm(tmp, { force: true });
      },
    };
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const f = this.file(key);
    await mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.${Date.now()}.part`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, f);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
}

export function stderrProgress(): (p: DownloadProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 500 && p.loaded < p.total) return;
    last = now;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    process.stderr.write(`\r${p.file}: ${mb(p.loaded)}/${mb(p.total)} MB, ${mb(p.speed)} MB/s, ${Number.isFinite(p.eta) ? Math.round(p.eta) : '?'} s left${p.loaded >= p.total ? '\n' : ''}`);
  };
}

export function nodeHubClient(opts: NodeHubOptions = {}): HubClient {
  const cacheDir = opts.cacheDir ?? process.env.LENSPRESS_CACHE ?? path.join(os.homedir(), '.cache', 'lenspress');
  return new HubClient({
    hubUrl: opts.hubUrl ?? process.env.LENSPRESS_HUB_URL ?? 'https://huggingface.co',
    fetch: opts.fetch ?? fetch,
    token: opts.token ?? process.env.HF_TOKEN,
    cache: new FileByteCache(path.join(cacheDir, 'hub')),
    onProgress: opts.onProgress,
    streamAbove: opts.streamAbove,
    authHint: "accept the model's terms on huggingface.co, then pass an access token with --token or $HF_TOKEN",
  });
}

export interface HubSource {
  id: HubId;
  /** The files of a Hugging Face folder, fetched on first read (null when the repository lacks one). */
  read(file: string): Promise<Uint8Array | null>;
  /** A file as a random-access source (large files stream to disk first); null when the repository lacks it. */
  open(file: string): Promise<ByteSource | null>;
  /** The chosen files, for an estimate before downloading. */
  files: { path: string; size?: number }[];
}

export async function hubSource(spec: string, opts: NodeHubOptions = {}): Promise<HubSource> {
  const id = parseHubId(spec);
  const client = nodeHubClient(opts);
  const listed = await client.listFiles(id);
  const chosen = chooseFiles(id, listed);
  const byPath = new Map(listed.map((f) => [f.path, f]));
  return {
    id,
    files: chosen,
    read: async (file) => {
      const f = byPath.get(file);
      return f ? client.download(id, f) : null;
    },
    open: async (file) => {
      const f = byPath.get(file);
      return f ? client.openFile(id, f) : null;
    },
  };
}
