/**
 * `lenspress figures --model X`: recomputes every figure of every article with model X and
 * rebuilds the site into dist/. The model is checked first (a clear error beats a failed
 * build); the build then publishes its files for readers' browsers and every figure's
 * provenance names it.
 */
import { spawnSync } from 'node:child_process';
import { LenspressError } from '../core/errors.ts';
import { openModel } from '../node/open-model.ts';
import { PROJECT_ROOT } from '../node/project-root.ts';
import { parseCommand } from './args.ts';

export async function figuresCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {});
  const model = values.model as string;
  const m = await openModel(model);
  console.error(`lenspress figures: ${m.provenance.name} (${m.provenance.format}, ${m.provenance.parameters.toLocaleString('en-US')} parameters, sha256 ${m.provenance.sha256.slice(0, 12)}…): rebuilding the site`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit', env: { ...process.env, LENSPRESS_FIGURE_MODEL: model } });
  if (r.status !== 0) throw new LenspressError('build-failed', `the site build with ${model} failed (exit ${r.status}); its output is above`);
  console.error(`lenspress figures: done — the site is in ${PROJECT_ROOT}/dist (serve it with npm run preview)`);
}
