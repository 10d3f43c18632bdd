/**
 * Where model files come from in Node, in this order:
 * 1. the model store: `storeDir` option, else $LENSPRESS_MODELS, else `../shared/models`
 *    beside the project when it exists (the group's machines);
 * 2. the download cache: $LENSPRESS_CACHE or ~/.cache/lenspress;
 * 3. the Hugging Face hub ($LENSPRESS_HUB_URL, default https://huggingface.co), streamed
 *    into the cache through a temporary file (hashed as it arrives, never one buffer) and
 *    renamed into place once its sha256 matches.
 * Every file's sha256 is checked on every load: figures cite it as their provenance.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LenspressError } from '../core/errors.ts';
import type { KnownModel, ModelFile } from '../core/model/registry.ts';
import { PROJECT_ROOT } from './project-root.ts';

export interface StoreOptions {
  storeDir?: string;
  cacheDir?: string;
  hubUrl?: string;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  onProgress?: (file: string, received: number, total: number) => void;
}

export interface LocatedFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function defaultStoreDir(): string | undefined {
  if (process.env.LENSPRESS_MODELS) return process.env.LENSPRESS_MODELS;
  const shared = path.resolve(PROJECT_ROOT, '../shared/models');
  return existsSync(shared) ? shared : undefined;
}

function cacheDir(opts: StoreOptions): string {
  return opts.cacheDir ?? process.env.LENSPRESS_CACHE ?? path.join(os.homedir(), '.cache', 'lenspress');
}

function verify(file: ModelFile, filePath: string, bytes: Uint8Array): LocatedFile {
  const digest = sha256(bytes);
  if (digest !== file.sha256) {
    throw new LenspressError(
      'checksum-mismatch',
      `${filePath}: sha256 is ${digest}, expected ${file.sha256} (${bytes.byteLength} bytes, expected ${file.bytes}); the file is damaged or a different version: delete it and run again to re-download`,
    );
  }
  return { path: filePath, bytes, sha256: digest };
}

async function download(model: KnownModel, file: ModelFile, dest: string, opts: StoreOptions): Promise<void> {
  const base = (opts.hubUrl ?? process.env.LENSPRESS_HUB_URL ?? 'https://huggingface.co').replace(/\/$/, '');
  const url = `${base}/${model.hub.repo}/resolve/${model.hub.revision}/${model.hub.folder}/${file.name}`;
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new LenspressError('download-failed', `could not reach ${url} (${(e as Error).message}); set LENSPRESS_MODELS to a folder that holds ${model.name}/${file.name}`);
  }
  if (!res.ok || !res.body) throw new LenspressError('download-failed', `${url} answered ${res.status} ${res.statusText}; set LENSPRESS_MODELS to a folder that holds ${model.name}/${file.name}`);
  const total = Number(res.headers.get('content-length') ?? file.bytes);
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.part`;
  const fh = await open(tmp, 'w');
  const hash = createHash('sha256');
  let received = 0;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.byteLength > file.bytes * 2 + 1024) throw new LenspressError('download-failed', `${url} sent more than the expected ${file.bytes} bytes; refusing`);
      for (let w = 0; w < value.byteLength; ) w += (await fh.write(value, w, value.byteLength - w, received + w)).bytesWritten;
      hash.update(value);
      received += value.byteLength;
      opts.onProgress?.(file.name, received, total);
    }
    await fh.close();
    const digest = hash.digest('hex');
    if (digest !== file.sha256) {
      throw new LenspressError('checksum-mismatch', `${url}: sha256 is ${digest}, expected ${file.sha256} (${received} bytes, expected ${file.bytes}); the file is damaged or a different version: delete it and run again to re-download`);
    }
    await rename(tmp, dest);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Finds (or downloads) one file of a known model and checks its sha256. */
export async function locateModelFile(model: KnownModel, file: ModelFile, opts: StoreOptions = {}): Promise<LocatedFile> {
  const store = opts.storeDir ?? defaultStoreDir();
  const searched: string[] = [];
  if (store) {
    const p = path.join(store, model.name, file.name);
    searched.push(p);
    if (existsSync(p)) return verify(file, p, new Uint8Array(await readFile(p)));
  }
  const cached = path.join(cacheDir(opts), model.hub.repo, model.hub.revision, model.hub.folder, file.name);
  searched.push(cached);
  if (!existsSync(cached)) {
    try {
      await download(model, file, cached, opts);
    } catch (e) {
      if (e instanceof LenspressError) throw new LenspressError(e.code, `${file.name} of ${model.name} is not in ${searched.join(' or ')}, and downloading it failed: ${e.message}`);
      throw e;
    }
  }
  return verify(file, cached, new Uint8Array(await readFile(cached)));
}
