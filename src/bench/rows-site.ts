/**
 * Site rows, read from the built site (dist/, `npm run build` first): the page's weight
 * before any interaction (page-weight.ts) and the warm live re-run in Chromium (live-rerun.ts).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnv } from './env.ts';
import { measureLiveRerun } from './live-rerun.ts';
import { defaultArticle, pageWeight } from './page-weight.ts';
import type { RowResult } from './report.ts';
import { median, summarize } from './stats.ts';

const KB = 1024;
const one = (x: number) => summarize([x]);

/** The build time of the site measured (its index.html), so a result names the build it read. */
function requireDist(dist: string): string {
  const index = path.join(dist, 'index.html');
  if (!existsSync(index)) throw new Error(`no built site in ${dist}: run \`npm run build\` first`);
  return statSync(index).mtime.toISOString();
}

export async function pageWeightRows(env: BenchEnv): Promise<RowResult[]> {
  const built = requireDist(env.opts.distDir);
  const article = defaultArticle(env.opts.distDir);
  const w = pageWeight(env.opts.distDir, article);
  if (w.missing.length > 0) env.log(`page-weight: not counted (missing or external): ${w.missing.join(', ')}`);
  const files = w.assets.map((a) => `${a.url} ${(a.bytes / KB).toFixed(1)} KB`).join('; ');
  const command = 'npm run build && npm run bench -- --only page-weight';
  return [
    {
      id: 'page-weight',
      label: `${article}: HTML + CSS + JS before Run`,
      unit: 'KB',
      summary: one(w.total.bytes / KB),
      details: { 'gzip KB': w.total.gzip / KB, 'HTML KB': w.byKind.html.bytes / KB, 'CSS KB': w.byKind.css.bytes / KB, files, 'dist built': built },
      command,
    },
    {
      id: 'page-weight',
      label: `${article}: JS loaded before Run`,
      unit: 'KB',
      summary: one(w.byKind.js.bytes / KB),
      details: { 'gzip KB': w.byKind.js.gzip / KB, modules: w.assets.filter((a) => a.kind === 'js').length },
      command,
    },
  ];
}

export async function liveRerunRows(env: BenchEnv): Promise<RowResult[]> {
  const built = requireDist(env.opts.distDir);
  const article = defaultArticle(env.opts.distDir);
  env.log(`live-rerun: ${article} in Chromium (wasm), 1 cold + ${env.opts.rounds} warm runs`);
  const r = await measureLiveRerun(env.opts.distDir, article, env.opts.rounds, (m) => env.log(m));
  const stage = (s: string) => {
    const xs = r.warm.map((w) => w.stages[s]).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : NaN;
  };
  return [
    {
      id: 'live-rerun',
      label: `stories260K, ${article}, WebAssembly, warm: Run → updated figure`,
      unit: 'ms',
      summary: summarize(r.warm.map((w) => w.totalMs)),
      details: {
        'cold ms': r.cold.totalMs,
        'warm runtime-load ms': stage('runtime'),
        'warm download+parse ms': stage('download'),
        'warm compute+draw ms': stage('compute'),
        'diagnostic, one kept Worker: 1st request ms': r.keptWorker[0],
        'diagnostic, one kept Worker: later requests ms (median)': median(r.keptWorker.slice(1)),
        'KB fetched before Run': r.bytesBeforeRun / KB,
        'KB fetched on first Run': r.bytesFirstRun / KB,
        'prompt chars': r.prompt.length,
        'dist built': built,
      },
      command: 'npm run build && npm run bench -- --only live-rerun',
    },
  ];
}
