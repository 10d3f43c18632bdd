/**
 * Reads one value out of a figure's data by a dotted path: "heads.correlation.pearson.statistic",
 * "grid.cells.3.0.probs.0", "grid.cells[-1][2].entropy" (brackets and dots mix; a negative
 * index counts from the end; `length` of an array is its length). A path that leads nowhere
 * fails with the keys that do exist where it stopped, so an author can correct it from the
 * build log alone.
 */
import { LenspressError } from '../core/errors.ts';

export type PathValue = number | string | boolean;

/** "a[0].b" → ["a", "0", "b"]. */
export function parsePath(path: string): string[] {
  const segments = path
    .trim()
    .replace(/\[\s*(-?\d+)\s*\]/g, '.$1')
    .split('.')
    .filter((s, i) => s !== '' || i > 0);
  if (segments.length === 0 || segments.some((s) => s === '')) throw new LenspressError('bad-path', `path "${path}" is not a dotted path like "heads.correlation.pearson.statistic" or "grid.cells[0][2].entropy"`);
  return segments;
}

const MAX_KEYS_LISTED = 40;

function keysOf(v: object): string {
  const keys = Object.keys(v);
  const shown = keys.slice(0, MAX_KEYS_LISTED).join(', ');
  return keys.length > MAX_KEYS_LISTED ? `${shown}, … (${keys.length} keys)` : shown || '(none)';
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (isArrayLike(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${keysOf(v)}`;
  return `a ${typeof v}`;
}

/** The value at `path` in `data`: a number, string or boolean, never an object or array. */
export function readPath(data: unknown, path: string): PathValue {
  const segments = parsePath(path);
  let cur: unknown = data;
  for (const [i, seg] of segments.entries()) {
    const at = segments.slice(0, i).join('.') || '(top level)';
    if (isArrayLike(cur)) {
      if (seg === 'length') {
        cur = cur.length;
        continue;
      }
      if (!/^-?\d+$/.test(seg)) throw new LenspressError('bad-path', `"${seg}" is not an index: ${at} is ${describe(cur)} (use 0…${cur.length - 1}, a negative index from the end, or length)`);
      const n = Number(seg);
      const idx = n < 0 ? cur.length + n : n;
      if (idx < 0 || idx >= cur.length) throw new LenspressError('bad-path', `index ${seg} is out of range: ${at} is ${describe(cur)}`);
      cur = cur[idx];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.hasOwn(cur, seg)) throw new LenspressError('bad-path', `no key "${seg}" in ${at}; keys there: ${keysOf(cur)}`);
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      throw new LenspressError('bad-path', `${at} is ${describe(cur)}, which has no "${seg}"`);
    }
  }
  if (typeof cur === 'number' || typeof cur === 'string' || typeof cur === 'boolean') return cur;
  throw new LenspressError('bad-path', `${segments.join('.')} is ${describe(cur)}, not a number or string: extend the path`);
}
