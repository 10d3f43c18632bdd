/**
 * The precompute cache: one JSON file per figure under .cache/figures/, keyed by a content
 * hash of (figure kind, analysis code version, model checksum, props). Freshness is decided
 * by the key alone — never by file times, which CI loses. Writes go to a temporary file in
 * the same folder and are renamed into place, so a build killed mid-write leaves no partial
 * file and two builds writing the same figure at once each install a complete one. The
 * temporary file a killed build leaves (`<entry>.<pid>.<random>.tmp`) is never read, and is
 * deleted by the next build that misses in that folder once its writer's process is gone.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root.ts';

export interface CacheKeyParts {
  kind: string;
  codeVersion: string;
  modelSha256: string;
  props: unknown;
}

/** JSON with sorted object keys, so {a, b} and {b, a} hash alike. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function cacheKey(p: CacheKeyParts): string {
  return createHash('sha256').update(canonicalJson(p)).digest('hex');
}

export interface FigureCacheOptions {
  dir?: string;
  /** For tests and logs: called with 'hit' or 'miss' and the key. */
  onLookup?: (result: 'hit' | 'miss', key: string) => void;
}

const inFlight = new Map<string, Promise<unknown>>();
const swept = new Set<string>();

/** Whether process `pid` still runs here (EPERM: it does, but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes temporary files left by killed writers, once per folder and process. A file whose
 * writer still runs (another build writing now) is left alone; a reused pid only delays it.
 */
async function sweepStaleTemporaries(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /\.(\d+)\.[0-9a-z]*\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await rm(path.join(dir, name), { force: true });
  }
}

/**
 * Writes the temporary file. LENSPRESS_TEST_PAUSE_CACHE_WRITE=<ms> (tests only) writes the
 * first half, says so on stderr and waits that long before the rest, so a test can kill the
 * process in the middle of the write itself (tests/unit/figure-cache.test.ts).
 */
async function writeTemporary(tmp: string, text: string): Promise<void> {
  const pause = Number(process.env.LENSPRESS_TEST_PAUSE_CACHE_WRITE);
  if (!(pause > 0)) return writeFile(tmp, text);
  const bytes = Buffer.from(text);
  const half = bytes.length >> 1;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(bytes, 0, half);
    await fh.datasync();
    process.stderr.write(`figure-cache: test pause: wrote ${half} of ${bytes.length} bytes of ${tmp}\n`);
    await new Promise((r) => setTimeout(r, pause));
    await fh.write(bytes, half);
  } finally {
    await fh.close();
  }
}

/** Returns the cached figure for these parts, or computes, stores and returns it. */
export async function cachedFigure<D>(parts: CacheKeyParts, compute: () => Promise<D>, opts: FigureCacheOptions = {}): Promise<D> {
  const dir = opts.dir ?? process.env.LENSPRESS_FIGURE_CACHE ?? path.join(PROJECT_ROOT, '.cache', 'figures');
  const key = cacheKey(parts);
  const file = path.join(dir, `${parts.kind}-${key.slice(0, 32)}.json`);
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(await readFile(file, 'utf8')) as { key: string; data: D };
      if (stored.key === key) {
        opts.onLookup?.('hit', key);
        return stored.data;
      }
    } catch {
      // An unreadable entry (e.g. written by an older version) is recomputed below.
    }
  }
  opts.onLookup?.('miss', key);
  // The same figure twice in one build (two articles, one prompt) is computed once.
  let pending = inFlight.get(file) as Promise<D> | undefined;
  if (!pending) {
    pending = (async () => {
      const data = await compute();
      await mkdir(dir, { recursive: true });
      await sweepStaleTemporaries(dir);
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        await writeTemporary(tmp, JSON.stringify({ key, parts: { ...parts, props: parts.props }, data }));
        await rename(tmp, file);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      return data;
    })().finally(() => inFlight.delete(file));
    inFlight.set(file, pending);
  }
  return pending;
}
