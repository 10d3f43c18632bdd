/**
 * The code version figures cite: a hash of every file of the pure core (src/core), which is
 * all the code that computes a figure. Editing an analysis changes it; editing the site's
 * styling does not.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

let cached: string | undefined;

export function codeVersion(): string {
  if (cached) return cached;
  const core = path.join(PROJECT_ROOT, 'src', 'core');
  const h = createHash('sha256');
  for (const f of files(core)) h.update(path.relative(core, f)).update('\0').update(readFileSync(f)).update('\0');
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return (cached = `${pkg.version}+${h.digest('hex').slice(0, 12)}`);
}
