/**
 * SVG snapshot tests in Observable Plot's manner: the rendered SVG is compared with a
 * committed file; on a mismatch `<name>-changed.svg` is written beside it for review.
 * A missing snapshot is written and the test fails, so a new snapshot is always looked at.
 */
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';

const DIR = path.join(PROJECT_ROOT, 'tests', 'snapshots');

/** Rounds long decimals so a last-digit float change does not churn snapshots. */
export function normalizeSvg(svg: string): string {
  return svg.replace(/\d+\.\d{4,}/g, (n) => String(Math.round(Number(n) * 1000) / 1000)).replace(/></g, '>\n<');
}

export function matchSvgSnapshot(name: string, svg: string): { ok: boolean; message: string } {
  const file = path.join(DIR, `${name}.svg`);
  const changed = path.join(DIR, `${name}-changed.svg`);
  const actual = normalizeSvg(svg) + '\n';
  if (!existsSync(file)) {
    writeFileSync(file, actual);
    return { ok: false, message: `wrote new snapshot ${file}: review and commit it, then re-run` };
  }
  if (readFileSync(file, 'utf8') === actual) {
    rmSync(changed, { force: true });
    return { ok: true, message: '' };
  }
  writeFileSync(changed, actual);
  return { ok: false, message: `${name}.svg differs from the snapshot: see ${changed}` };
}
