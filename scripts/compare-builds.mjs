#!/usr/bin/env node
// Reproducible builds (issue 9): two clean builds of the site must be byte-identical.
//
// The project's sources (what git tracks, plus untracked files it does not ignore) are copied
// once into two checkouts at different paths. Each checkout gets its own node_modules folder
// of links to the project's packages (so no Astro or Vite cache is shared) and no
// public/generated/, .astro/ or dist/; each builds from scratch — prepare-site, then
// `astro build` — with its own empty figure cache (LENSPRESS_FIGURE_CACHE). Then every file of
// the two dist/ folders is compared byte for byte; differences are listed with the first
// differing offset and the bytes around it, so a timestamp, a build id, an absolute path or
// an unstable hash shows itself. The two builds also run in different time zones (UTC−8 and
// UTC+14) and locales (en-US; tr-TR: decimal commas, dotted and dotless i), so output that
// follows the build machine's clock, language or folder differs too. Copying the sources
// first also keeps an edit made while the builds run from passing for nondeterminism.
// Then the second checkout builds once more with its figure cache now full, and that dist/ is
// compared too: a cache hit must give the bytes a computation gave, and figures that are all
// ready at once render in another order than figures computed one by one — which is how
// output that follows rendering order (Astro places a component's <script> at the instance
// that renders first in time) shows itself.
//
//   node scripts/compare-builds.mjs [--keep]     (npm run test:reproducible; --keep keeps the folders)
//
// Exit status: 0 identical, 1 different, 2 a build failed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
/** Package-manager and tool caches inside node_modules that a clean build must not inherit. */
const CACHES = new Set(['.astro', '.vite', '.cache', '.vitest']);

function run(cwd, cmd, argv, env = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    throw new Error(`${cmd} ${argv.join(' ')} failed in ${cwd} with status ${r.status}`);
  }
  return (Date.now() - started) / 1000;
}

/** Every file under dir, as relative paths with '/', sorted. */
function listFiles(dir, rel = '') {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => {
      const p = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? listFiles(dir, p) : [p];
    })
    .sort();
}

/** A checkout of the project's sources at `dest`, with node_modules linked package by package. */
function checkout(dest) {
  const r = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  for (const f of r.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(ROOT, f))) continue; // deleted but not yet staged
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(dest, f));
  }
  mkdirSync(path.join(dest, 'node_modules'));
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (!CACHES.has(name)) symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dest, 'node_modules', name));
  }
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function excerpt(buf, at) {
  return JSON.stringify(buf.subarray(Math.max(0, at - 40), at + 40).toString('latin1'));
}

/** Lists what differs between two build folders; returns the number of differences. */
function compare(dirA, dirB) {
  const a = listFiles(dirA);
  const b = listFiles(dirB);
  const inA = new Set(a);
  const inB = new Set(b);
  const problems = [];
  for (const f of a) if (!inB.has(f)) problems.push(`only in the first build: ${f}`);
  for (const f of b) if (!inA.has(f)) problems.push(`only in the second build: ${f}`);
  let bytes = 0;
  for (const f of a.filter((x) => inB.has(x))) {
    const x = readFileSync(path.join(dirA, f));
    const y = readFileSync(path.join(dirB, f));
    bytes += x.length;
    const at = firstDifference(x, y);
    if (at >= 0) problems.push(`differs: ${f} (${x.length} vs ${y.length} bytes), first at byte ${at}:\n      ${excerpt(x, at)}\n      ${excerpt(y, at)}`);
  }
  console.log(`compare-builds: ${path.relative(tmp, dirA)} vs ${path.relative(tmp, dirB)}: ${a.length} files, ${(bytes / 1e6).toFixed(1)} MB compared`);
  for (const p of problems) console.log(`  ${p}`);
  return problems.length;
}

// The model store the project itself would use (../shared/models beside it), so the copies find the model there too.
const shared = path.resolve(ROOT, '../shared/models');
const storeEnv = process.env.LENSPRESS_MODELS || !existsSync(shared) ? {} : { LENSPRESS_MODELS: shared };
const machines = {
  a: { dir: 'first', env: { TZ: 'America/Los_Angeles', LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' } },
  b: { dir: 'second-checkout-elsewhere', env: { TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' } },
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-repro-'));
let status = 0;
try {
  const started = Date.now();
  const a = path.join(tmp, machines.a.dir);
  const b = path.join(tmp, machines.b.dir);
  checkout(a);
  checkout(b);
  const envOf = (name) => ({ ...storeEnv, ...machines[name].env, LENSPRESS_FIGURE_CACHE: path.join(tmp, `${name}-figure-cache`) });
  const astroBuild = (dir, env, outDir) => run(dir, process.execPath, [path.join(dir, 'node_modules', 'astro', 'astro.js'), 'build', '--force', '--outDir', outDir], env);
  for (const [name, m] of Object.entries(machines)) {
    const dir = path.join(tmp, m.dir);
    const prepare = run(dir, process.execPath, ['scripts/prepare-site.mjs'], envOf(name));
    const build = astroBuild(dir, envOf(name), path.join(dir, 'dist'));
    console.log(`compare-builds: clean build ${name} (${m.env.TZ}, ${m.env.LANG}): prepare-site ${prepare.toFixed(0)} s, astro build ${build.toFixed(0)} s`);
  }
  const warm = path.join(b, 'dist-warm-cache');
  console.log(`compare-builds: build b again with its figure cache full: astro build ${astroBuild(b, envOf('b'), warm).toFixed(0)} s`);
  const differences = compare(path.join(a, 'dist'), path.join(b, 'dist')) + compare(path.join(a, 'dist'), warm);
  if (differences > 0) {
    console.log(`compare-builds: ${differences} difference(s): the build is not reproducible`);
    status = 1;
  } else {
    console.log(`compare-builds: the builds are byte-identical (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  }
} catch (e) {
  console.error(`compare-builds: ${e.message}`);
  status = 2;
} finally {
  if (keep) console.log(`compare-builds: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
