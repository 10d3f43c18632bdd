/**
 * `lenspress run`: tokens, the logits of every position and any hooks, as nested arrays
 * named as in TransformerLens — so a run can be diffed against another implementation.
 */
import { LenspressError } from '../core/errors.ts';
import type { HookTensor } from '../core/engine/hooked-model.ts';
import { parseCommand } from './args.ts';
import { openFromFlags } from './open.ts';

/** A flat tensor as nested arrays following its dims. */
export function nest(t: HookTensor): unknown {
  const build = (offset: number, axis: number): unknown => {
    if (axis === t.dims.length - 1) return Array.from(t.data.subarray(offset, offset + t.dims[axis]));
    const stride = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.dims[axis] }, (_, i) => build(offset + i * stride, axis + 1));
  };
  return build(0, 0);
}

export async function runCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { ids: { type: 'string' }, hooks: { type: 'string', default: '' } });
  if ((values.prompt === undefined) === (values.ids === undefined)) throw new LenspressError('missing-option', 'give exactly one of --prompt TEXT or --ids 1,2,3');
  const m = await openFromFlags(values);
  let ids: number[];
  if (values.ids !== undefined) {
    ids = String(values.ids).split(',').map((s) => Number(s.trim()));
    if (ids.some((id) => !Number.isInteger(id))) throw new LenspressError('bad-option', `--ids must be comma-separated whole numbers, got "${values.ids}"`);
  } else {
    ids = m.tokenizer.encode(String(values.prompt), { addBos: true });
  }
  const hooks = [...new Set(['logits', ...String(values.hooks).split(',').map((s) => s.trim()).filter(Boolean)])];
  const out = await m.hooked.run(ids, hooks);
  const result = {
    model: m.provenance,
    ids,
    tokens: ids.map((id) => m.tokenizer.piece(id)),
    logits: nest(out.get('logits')!),
    hooks: Object.fromEntries(hooks.filter((h) => h !== 'logits').map((h) => [h, nest(out.get(h)!)])),
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const V = m.model.config.d_vocab, logits = out.get('logits')!.data;
  ids.forEach((id, t) => {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[t * V + j] > logits[t * V + best]) best = j;
    console.log(`${String(t).padStart(4)}  ${m.tokenizer.piece(id).padEnd(14)} → ${m.tokenizer.piece(best)} (${logits[t * V + best].toFixed(3)})`);
  });
  for (const h of hooks.filter((x) => x !== 'logits')) console.log(`${h}: [${out.get(h)!.dims.join(', ')}]`);
}
