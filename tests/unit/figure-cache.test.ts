/** The precompute cache: reuse when nothing changed, recompute when anything did, atomic writes. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedFigure, cacheKey, canonicalJson } from '../../src/node/figure-cache.ts';
import { precomputeLogitLens } from '../../src/node/precompute.ts';

const parts = { kind: 'test', codeVersion: '1', modelSha256: 'aa', props: { prompt: 'x', k: 5 } };

describe('figure cache', () => {
  it('keys ignore property order but not values', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(cacheKey(parts)).toBe(cacheKey({ ...parts, props: { k: 5, prompt: 'x' } }));
    for (const changed of [{ codeVersion: '2' }, { modelSha256: 'ab' }, { props: { prompt: 'y', k: 5 } }, { kind: 'other' }]) {
      expect(cacheKey({ ...parts, ...changed })).not.toBe(cacheKey(parts));
    }
  });

  it('reuses an unchanged figure and recomputes when code, model or props change', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-'));
    let computed = 0;
    const compute = async () => ({ n: ++computed });
    const log: string[] = [];
    const opts = { dir, onLookup: (r: string) => log.push(r) };
    expect(await cachedFigure(parts, compute, opts)).toEqual({ n: 1 });
    expect(await cachedFigure(parts, compute, opts)).toEqual({ n: 1 });
    expect(await cachedFigure({ ...parts, codeVersion: '2' }, compute, opts)).toEqual({ n: 2 });
    expect(await cachedFigure({ ...parts, modelSha256: 'bb' }, compute, opts)).toEqual({ n: 3 });
    expect(await cachedFigure({ ...parts, props: { prompt: 'z', k: 5 } }, compute, opts)).toEqual({ n: 4 });
    expect(log).toEqual(['miss', 'hit', 'miss', 'miss', 'miss']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('concurrent requests for one figure compute it once and leave one complete file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-'));
    let computed = 0;
    const compute = async () => {
      computed++;
      await new Promise((r) => setTimeout(r, 20));
      return { big: 'x'.repeat(100_000) };
    };
    await Promise.all(Array.from({ length: 5 }, () => cachedFigure(parts, compute, { dir })));
    expect(computed).toBe(1);
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    expect(JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')).data.big.length).toBe(100_000);
  });

  it('a logit-lens figure is computed once, then read back identically', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-'));
    const log: string[] = [];
    const opts = { dir, onLookup: (r: string) => log.push(r) };
    const a = await precomputeLogitLens('stories260K', 'Tom had a red', { norm: 'model', k: 5 }, opts);
    const b = await precomputeLogitLens('stories260K', 'Tom had a red', { norm: 'model', k: 5 }, opts);
    const c = await precomputeLogitLens('stories260K', 'Tom had a red', { norm: 'none', k: 5 }, opts);
    expect(log).toEqual(['miss', 'hit', 'miss']);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c.provenance.settings.norm).toBe('none');
  });
});

describe('figure cache across processes', () => {
  it('four builds writing the same figure at once leave one complete, readable entry and no temporary files', { timeout: 120_000 }, async () => {
    const { execFile } = await import('node:child_process');
    const { PROJECT_ROOT } = await import('../../src/node/project-root.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-race-'));
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/cache-writer.ts'), dir], { cwd: PROJECT_ROOT }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
      );
    const outs = await Promise.all([run(), run(), run(), run()]);
    expect(outs).toEqual(['2000000', '2000000', '2000000', '2000000']);
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files.length).toBe(1);
    expect(JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')).data.payload.length).toBe(2_000_000);
  });
});

describe('a build killed mid-way', () => {
  it('leaves no cache entry behind, and the next build computes the figure', { timeout: 60_000 }, async () => {
    const { spawn } = await import('node:child_process');
    const { PROJECT_ROOT } = await import('../../src/node/project-root.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-kill-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/cache-slow-writer.ts'), dir], { cwd: PROJECT_ROOT });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('computing') && resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toEqual([]);
    const parts = { kind: 'killed', codeVersion: '1', modelSha256: 'aa', props: {} };
    expect(await cachedFigure(parts, async () => ({ done: true }), { dir })).toEqual({ done: true });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).length).toBe(1);
  });
});

/**
 * Killed in the middle of writing the entry itself: LENSPRESS_TEST_PAUSE_CACHE_WRITE makes the
 * writer (tests/helpers/cache-writer.ts, a 2 MB figure) stop after half of the temporary file,
 * say so on stderr and wait; the test SIGKILLs it there. The entry's path must then hold
 * nothing or the previous entry, byte for byte; the next build recomputes (never reads the
 * half file) and deletes the dead writer's temporary file.
 */
describe('a build killed while writing the cache file', () => {
  const raceParts = { kind: 'race', codeVersion: '1', modelSha256: 'aa', props: { p: 1 } };
  const entryName = `race-${cacheKey(raceParts).slice(0, 32)}.json`;

  async function startPausedWriter(dir: string) {
    const { spawn } = await import('node:child_process');
    const { PROJECT_ROOT } = await import('../../src/node/project-root.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/cache-writer.ts'), dir], { cwd: PROJECT_ROOT, env: { ...process.env, LENSPRESS_TEST_PAUSE_CACHE_WRITE: '60000' } });
    let stderr = '';
    const paused = await new Promise<{ written: number; total: number; tmp: string }>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /test pause: wrote (\d+) of (\d+) bytes of (\S+)/.exec(stderr);
        if (m) resolve({ written: Number(m[1]), total: Number(m[2]), tmp: m[3] });
      });
      child.on('exit', () => reject(new Error(`the writer exited before pausing:\n${stderr}`)));
    });
    const kill = async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.on('exit', r));
    };
    return { ...paused, kill };
  }

  const recompute = async () => ({ payload: 'y'.repeat(2_000_000), pid: process.pid });

  it('with no entry before: none after, the half-written file is never read, the next build recomputes and deletes it', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-killwrite-'));
    const w = await startPausedWriter(dir);
    await w.kill();
    // Killed mid-write: the temporary file is there and holds half the entry; the entry is not.
    expect(path.basename(w.tmp)).not.toBe(entryName);
    expect(readdirSync(dir)).toEqual([path.basename(w.tmp)]);
    expect(readFileSync(w.tmp).length).toBe(w.written);
    expect(w.written).toBeLessThan(w.total);
    const log: string[] = [];
    const data = await cachedFigure(raceParts, recompute, { dir, onLookup: (r) => log.push(r) });
    expect(log).toEqual(['miss']);
    expect(data.payload).toBe('y'.repeat(2_000_000));
    expect(readdirSync(dir)).toEqual([entryName]);
    const stored = JSON.parse(readFileSync(path.join(dir, entryName), 'utf8')) as { key: string; data: { payload: string } };
    expect(stored.key).toBe(cacheKey(raceParts));
    expect(stored.data.payload.length).toBe(2_000_000);
  });

  it('with an older entry before: it stays byte for byte, is not taken for the new one, and is replaced whole', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-killwrite-'));
    // A complete entry written by an older version (another key in the same file): rewritten on the next miss.
    const old = JSON.stringify({ key: 'written-by-an-older-version', data: { payload: 'old' } });
    writeFileSync(path.join(dir, entryName), old);
    const w = await startPausedWriter(dir);
    await w.kill();
    expect(readFileSync(path.join(dir, entryName), 'utf8')).toBe(old);
    expect(readFileSync(w.tmp).length).toBe(w.written);
    const log: string[] = [];
    const data = await cachedFigure(raceParts, recompute, { dir, onLookup: (r) => log.push(r) });
    expect(log).toEqual(['miss']);
    expect(data.payload.length).toBe(2_000_000);
    expect(readdirSync(dir)).toEqual([entryName]);
    expect(JSON.parse(readFileSync(path.join(dir, entryName), 'utf8')).data.payload.length).toBe(2_000_000);
  });

  it('the temporary file of a writer still running is left alone', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-cache-killwrite-'));
    const w = await startPausedWriter(dir);
    try {
      await cachedFigure({ ...raceParts, kind: 'other' }, async () => ({ n: 1 }), { dir });
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([path.basename(w.tmp)]);
    } finally {
      await w.kill();
    }
  });
});
