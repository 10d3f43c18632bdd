/**
 * A client for the Hugging Face hub's public HTTP layout, shared by Node and the page:
 *   GET {hub}/api/models/{repo}/revision/{rev}?blobs=true  → the file list (sizes, LFS sha256)
 *   GET {hub}/{repo}/resolve/{rev}/{path}                   → the file (usually a 302 to a CDN)
 * Downloads stream with progress (bytes, speed, time left), resume with a Range request
 * after a broken transfer, verify size and sha256 (the hub gives it for LFS files), and go
 * through a cache with the browser Cache API's shape (`match`/`put`); Node passes a
 * file-backed twin. `fetch` is injected, so tests serve the layout from a local server.
 * Large files (Node): when the cache can write files (`writer`) a file above `streamAbove`
 * bytes streams to disk, hashed as it arrives, and `openFile` returns it as a ByteSource read
 * tensor by tensor, so neither the download nor the model file is ever one buffer.
 */
import { LenspressError } from '../errors.ts';
import { type ByteSource, bufferSource } from '../formats/byte-source.ts';
import type { HubId } from './hub-id.ts';

export interface HubFile {
  path: string;
  size?: number;
  /** sha256 of the content, for files stored with Git LFS. */
  sha256?: string;
}

export interface ByteCache {
  match(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The cached file as a random-access source (any size); undefined when not cached. */
  open?(key: string): Promise<(ByteSource & { close(): Promise<void> }) | undefined>;
  /** A file to stream a download into instead of memory. */
  writer?(key: string): Promise<CacheWriter>;
}

/** A download on its way to disk: appended in order, hashed as it goes. */
export interface CacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Drop what was written (the server ignored a Range request and starts over). */
  restart(): Promise<void>;
  /** sha256 (hex) of what was written. */
  sha256(): string;
  /** Move the file into the cache and open it. */
  commit(): Promise<ByteSource & { close(): Promise<void> }>;
  /** Delete the partial file. */
  abort(): Promise<void>;
}

/** Where a transfer's bytes go: memory (the page, small files) or a CacheWriter. */
interface Sink {
  write(chunk: Uint8Array): Promise<void> | void;
  restart(): Promise<void> | void;
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number;
  /** Bytes per second over the download so far. */
  speed: number;
  /** Seconds left at that speed (Infinity before any bytes). */
  eta: number;
}

export interface HubClientOptions {
  hubUrl: string;
  fetch: typeof fetch;
  /** A user access token, for gated or private models. */
  token?: string;
  cache?: ByteCache;
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts per file (first try plus resumes). */
  attempts?: number;
  /** What to tell a reader about authentication (the CLI and the page say different things). */
  authHint?: string;
  now?: () => number;
  /** openFile streams files larger than this to `cache.writer` (default 256 MiB). */
  streamAbove?: number;
}

export const DEFAULT_STREAM_ABOVE = 256 * 2 ** 20;

const DEFAULT_AUTH_HINT = 'accept the model\'s terms on huggingface.co, then pass an access token (--token or $HF_TOKEN)';

function httpError(what: string, res: Response, hint: string): LenspressError {
  if (res.status === 401 || res.status === 403) return new LenspressError('hub-auth', `${what}: the hub answered ${res.status}: this model is gated or private: ${hint}`);
  if (res.status === 404) return new LenspressError('hub-not-found', `${what}: not found on the hub (404): check the id, the revision and the file name`);
  return new LenspressError('hub-http', `${what}: the hub answered ${res.status} ${res.statusText}`);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class HubClient {
  constructor(private readonly o: HubClientOptions) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}), ...extra };
  }

  private base(): string {
    return this.o.hubUrl.replace(/\/$/, '');
  }

  async listFiles(id: HubId): Promise<HubFile[]> {
    const url = `${this.base()}/api/models/${id.repo}/revision/${encodeURIComponent(id.revision)}?blobs=true`;
    const res = await this.request(url, {}, `${id.repo}@${id.revision}`);
    const body = (await res.json()) as { siblings?: { rfilename: string; size?: number; lfs?: { sha256?: string; size?: number } }[] };
    if (!Array.isArray(body.siblings)) throw new LenspressError('hub-http', `${id.repo}@${id.revision}: the hub's file list has no "siblings"`);
    return body.siblings.map((s) => ({ path: s.rfilename, size: s.lfs?.size ?? s.size, sha256: s.lfs?.sha256 }));
  }

  private async request(url: string, headers: Record<string, string>, what: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.o.fetch(url, { headers: this.headers(headers), redirect: 'follow' });
    } catch (e) {
      throw new LenspressError('hub-unreachable', `${what}: could not reach ${this.base()} (${(e as Error).message})`);
    }
    if (!res.ok) throw httpError(what, res, this.o.authHint ?? DEFAULT_AUTH_HINT);
    return res;
  }

  private key(id: HubId, file: HubFile): string {
    return `${this.base()}/${id.repo}/resolve/${id.revision}/${file.path}`;
  }

  /** Downloads one file (or takes it from the cache), verified against its listed size and sha256. */
  async download(id: HubId, file: HubFile): Promise<Uint8Array> {
    const key = this.key(id, file);
    const cached = await this.o.cache?.match(key);
    if (cached && (file.size === undefined || cached.byteLength === file.size)) return cached;
    const chunks: Uint8Array[] = [];
    const loaded = await this.transfer(id, file, key, { write: (c) => void chunks.push(c), restart: () => void (chunks.length = 0) });
    const bytes = new Uint8Array(loaded);
    let o = 0;
    for (const c of chunks) {
      bytes.set(c, o);
      o += c.byteLength;
    }
    if (file.sha256) this.checkSha(id, file, await sha256Hex(bytes));
    await this.o.cache?.put(key, bytes);
    return bytes;
  }

  /**
   * One file as a random-access source: from the cache's file when it has one, streamed to
   * disk when larger than `streamAbove` (or of unknown size) and the cache can write files,
   * else downloaded into memory as `download` does.
   */
  async openFile(id: HubId, file: HubFile): Promise<ByteSource> {
    const key = this.key(id, file);
    const cache = this.o.cache;
    const cached = await cache?.open?.(key);
    if (cached && (file.size === undefined || cached.size === file.size)) return cached;
    await cached?.close();
    if (!cache?.writer || (file.size !== undefined && file.size <= (this.o.streamAbove ?? DEFAULT_STREAM_ABOVE))) {
      if ((file.size ?? 0) > MAX_FILE_BYTES) throw new LenspressError('file-too-large', `${id.repo}/${file.path} is ${((file.size ?? 0) / 1e9).toFixed(1)} GB: without a disk cache to stream it into (this page has no Cache Storage: it needs https or localhost), a file over 2 GiB cannot be downloaded into memory; the command line (npx lenspress … --model ${id.repo}${id.file ? `:${id.file}` : ''}) loads it`);
      return bufferSource(await this.download(id, file), key);
    }
    const w = await cache.writer(key);
    try {
      await this.transfer(id, file, key, w);
      if (file.sha256) this.checkSha(id, file, w.sha256());
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  /**
   * `length` bytes of a file from `offset`, with a Range request, not cached: a GGUF's header
   * (its shape and tensor types) before deciding whether to download the whole file. A server
   * that ignores Range sends the file from its start: read up to the range, then cancel.
   */
  async readRange(id: HubId, file: HubFile, offset: number, length: number): Promise<Uint8Array> {
    const what = `${id.repo}/${file.path}`;
    const res = await this.request(this.key(id, file), { range: `bytes=${offset}-${offset + length - 1}` }, what);
    const skip = res.status === 206 ? 0 : offset;
    const out = new Uint8Array(length);
    let at = -skip;
    const reader = res.body!.getReader();
    while (at < length) {
      const { done, value } = await reader.read();
      if (done) break;
      const from = Math.max(0, -at), to = Math.min(value.byteLength, length - at);
      if (to > from) out.set(value.subarray(from, to), at + from);
      at += value.byteLength;
    }
    await reader.cancel().catch(() => undefined);
    if (at < length) throw new LenspressError('hub-size', `${what}: asked for bytes ${offset}…${offset + length}, the hub sent ${Math.max(0, at)}`);
    return out;
  }

  /** A hub file as a ByteSource read by Range requests (each read a request: for headers, not weights). */
  remoteSource(id: HubId, file: HubFile & { size: number }): ByteSource {
    return { name: `${id.repo}/${file.path}`, size: file.size, readRange: (offset, length) => this.readRange(id, file, offset, length) };
  }

  private checkSha(id: HubId, file: HubFile, got: string): void {
    if (got !== file.sha256) throw new LenspressError('hub-checksum', `${id.repo}/${file.path}: sha256 is ${got}, the hub lists ${file.sha256}: the download is damaged; try again`);
  }

  /** Streams the file into `sink` with progress, resuming with Range requests; returns its length, checked against the listing. */
  private async transfer(id: HubId, file: HubFile, key: string, sink: Sink): Promise<number> {
    let loaded = 0;
    const started = (this.o.now ?? Date.now)();
    const attempts = this.o.attempts ?? 4;
    // Said before the request: a slow server must not look like nothing is happening.
    this.o.onProgress?.({ file: file.path, loaded: 0, total: file.size ?? 0, speed: 0, eta: Infinity });
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.request(key, loaded > 0 ? { range: `bytes=${loaded}-` } : {}, `${id.repo}/${file.path}`);
        if (loaded > 0 && res.status !== 206) {
          // The server ignored the Range header: start over.
          await sink.restart();
          loaded = 0;
        }
        const total = file.size ?? loaded + Number(res.headers.get('content-length') ?? 0);
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (file.size !== undefined && loaded + value.byteLength > file.size) throw new LenspressError('hub-size', `${id.repo}/${file.path}: received more than the listed ${file.size} bytes`);
          await sink.write(value);
          loaded += value.byteLength;
          const seconds = Math.max(1e-3, ((this.o.now ?? Date.now)() - started) / 1000);
          const speed = loaded / seconds;
          this.o.onProgress?.({ file: file.path, loaded, total, speed, eta: speed > 0 ? (total - loaded) / speed : Infinity });
        }
        break;
      } catch (e) {
        // Authentication, missing files and bad sizes do not get better by retrying.
        if (e instanceof LenspressError && e.code !== 'hub-unreachable') throw e;
        if (attempt >= attempts) throw new LenspressError('hub-broken', `${id.repo}/${file.path}: the download broke ${attempts} times (last: ${(e as Error).message}); try again later`);
      }
    }
    if (file.size !== undefined && loaded !== file.size) throw new LenspressError('hub-size', `${id.repo}/${file.path}: received ${loaded} bytes, the hub lists ${file.size}`);
    return loaded;
  }
}

/**
 * The largest file downloaded into one buffer (a Uint8Array, Web Crypto's digest): 2 GiB.
 * Weights files larger than that stream to a cache writer and are read tensor by tensor
 * (openFile); without a writer (a page with no Cache Storage) they cannot be opened.
 */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/** The files to fetch for a hub id: a named GGUF file, or a Hugging Face folder's config, tokenizer and weights. */
export function chooseFiles(id: HubId, files: readonly HubFile[]): HubFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  if (id.file) {
    const f = byPath.get(id.file);
    if (!f) throw new LenspressError('hub-not-found', `${id.repo}@${id.revision} has no file ${id.file} (it has: ${files.filter((x) => x.path.endsWith('.gguf')).map((x) => x.path).join(', ') || 'no .gguf files'})`);
    return [f];
  }
  const need = (p: string) => {
    const f = byPath.get(p);
    if (!f) throw new LenspressError('hub-not-found', `${id.repo}@${id.revision} has no ${p}: expected a Hugging Face model folder (config.json, model.safetensors or a sharded index, tokenizer.json), or name a GGUF file as ${id.repo}:file.gguf`);
    return f;
  };
  const chosen = [need('config.json'), need('tokenizer.json')];
  if (byPath.has('tokenizer_config.json')) chosen.push(byPath.get('tokenizer_config.json')!);
  if (byPath.has('model.safetensors')) chosen.push(byPath.get('model.safetensors')!);
  else {
    chosen.push(need('model.safetensors.index.json'));
    // Shards are named in the index; they are listed here by the hub's naming convention.
    chosen.push(...files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f.path)));
  }
  return chosen;
}
