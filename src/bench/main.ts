/**
 * `npm run bench`: measured speed against llama.cpp and the machine's peak (docs/benchmarks.md).
 *
 *   npm run bench                         every row, 7 rounds
 *   npm run bench -- --only prefill       one row (repeatable, or comma-separated)
 *   npm run bench -- --rounds 11          more rounds
 *   npm run bench -- --quick              3 rounds, shorter rounds (a smoke run: not for reporting)
 *   npm run bench -- --json               machine-readable results on stdout
 *   npm run bench -- --profile            only the diagnostics: per-op ONNX Runtime profiles of the
 *                                         timed graphs and the attribution experiments (add --only
 *                                         to run rows too)
 *   npm run bench -- --dist path/to/dist  the built site for page-weight and live-rerun
 *
 * Progress goes to stderr, the table (or JSON) to stdout.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../node/project-root.ts';
import { BenchEnv } from './env.ts';
import { formatProfile, type ProfileSummary } from './profile.ts';
import { hookAttribution } from './attribution.ts';
import { runProfiles } from './profiles.ts';
import { formatDetails, formatTable, goalMet, type RowResult } from './report.ts';
import { decodeToken, hooksOverhead, prefill } from './rows-engine.ts';
import { lensGrid } from './rows-lens.ts';
import { liveRerunRows, pageWeightRows } from './rows-site.ts';

export const ROWS: Record<string, (env: BenchEnv) => Promise<RowResult[]>> = {
  'hooks-overhead': hooksOverhead,
  prefill,
  'lens-grid': lensGrid,
  'decode-token': decodeToken,
  'page-weight': pageWeightRows,
  'live-rerun': liveRerunRows,
};

export interface BenchArgs {
  only: string[];
  rounds: number;
  quick: boolean;
  json: boolean;
  profile: boolean;
  dist: string;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = { only: [], rounds: 0, quick: false, json: false, profile: false, dist: 'dist' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--only') a.only.push(...value().split(',').filter(Boolean));
    else if (flag === '--rounds') {
      const v = value();
      a.rounds = Number(v);
      if (!Number.isInteger(a.rounds) || a.rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, got "${v}"`);
    } else if (flag === '--quick') a.quick = true;
    else if (flag === '--json') a.json = true;
    else if (flag === '--profile') a.profile = true;
    else if (flag === '--dist') a.dist = value();
    else throw new Error(`unknown flag "${flag}": expected --only <row>, --rounds N, --quick, --json, --profile, --dist <dir>`);
  }
  const unknown = a.only.filter((r) => !(r in ROWS));
  if (unknown.length) throw new Error(`unknown row "${unknown.join(', ')}": rows are ${Object.keys(ROWS).join(', ')}`);
  if (a.rounds === 0) a.rounds = a.quick ? 3 : 7;
  return a;
}

function versionOf(pkg: string): string {
  try {
    // Read the installed package.json directly: packages with an `exports` map refuse `pkg/package.json`.
    return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? '?',
    cpus: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeGiB: +(freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    onnxruntimeNode: versionOf('onnxruntime-node'),
    nodeLlamaCpp: versionOf('node-llama-cpp'),
    loadAverage1m: +loadavg()[0].toFixed(2),
  };
}

const USAGE = `npm run bench [-- --only <row>[,<row>…]] [--rounds N] [--quick] [--json] [--profile] [--dist <dir>]
rows: ${Object.keys(ROWS).join(', ')} (page-weight and live-rerun read the built site: npm run build first)
method, machine and results: docs/benchmarks.md`;

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const env = new BenchEnv({ rounds: args.rounds, quick: args.quick, targetMs: args.quick ? 100 : 300, distDir: path.resolve(args.dist), log });
  const ids = args.only.length ? args.only : args.profile ? [] : Object.keys(ROWS);
  const before = machine();
  log(`bench: ${[...ids, ...(args.profile ? ['profiles'] : [])].join(', ')} · ${args.rounds} rounds · ${before.cpus} × ${before.cpu} · load average ${before.loadAverage1m}`);
  const results: RowResult[] = [];
  const failures: { id: string; error: string }[] = [];
  let profiles: ProfileSummary[] = [];
  const t0 = performance.now();
  try {
    const attempt = async (id: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        failures.push({ id, error: (e as Error).message });
        log(`bench: ${id} failed: ${(e as Error).stack ?? e}`);
      }
    };
    for (const id of ids) await attempt(id, async () => void results.push(...(await ROWS[id](env))));
    if (args.profile) {
      await attempt('profiles', async () => void (profiles = await runProfiles(env)));
      await attempt('attribution', async () => void results.push(...(await hookAttribution(env))));
    }
  } finally {
    await env.dispose();
  }
  const after: Record<string, string | number> = { ...machine(), seconds: Math.round((performance.now() - t0) / 1000) };
  const agreement = await env.checkedAgreement();
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ machine: before, after, rounds: args.rounds, quick: args.quick, agreement, results: results.map((r) => ({ ...r, met: goalMet(r) })), failures, profiles }, null, 2)}\n`);
  } else {
    const out = [formatTable(results), '', formatDetails(results)];
    if (profiles.length) out.push('', 'Profiles (ONNX Runtime, per run):', ...profiles.map((p) => formatProfile(p)));
    out.push('', `${args.rounds} rounds${args.quick ? ' (quick: not for reporting)' : ''} · ${before.cpus} × ${before.cpu} · load average ${before.loadAverage1m} → ${after.loadAverage1m} · ${after.seconds} s`);
    if (failures.length) out.push(...failures.map((f) => `FAILED ${f.id}: ${f.error}`));
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return failures.length ? 1 : 0;
}
