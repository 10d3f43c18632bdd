/**
 * `lenspress attention`: one attention row as shaded text — the weights from a query position
 * to every key, for one head or the mean over heads (src/core/analysis/attention-text.ts).
 * --layer is a block index as in TransformerLens (blocks.{layer}, from 0).
 */
import { runAttentionText } from '../core/analysis/attention-text.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { cell, encodePrompt, exclusive, numberFlag, provenance } from './analysis-args.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';
import { LenspressError } from '../core/errors.ts';

export async function attentionCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    layer: { type: 'string' },
    head: { type: 'string' },
    average: { type: 'boolean', default: false },
    query: { type: 'string' },
    threshold: { type: 'string', default: '0' },
  });
  const prompt = requirePrompt(values.prompt as string | undefined);
  if (values.layer === undefined) throw new LenspressError('missing-option', '--layer L is required (a block index from 0)');
  exclusive(values, ['head'], ['average']);
  const threshold = numberFlag('threshold', values.threshold, 0, 1);
  const m = await openFromFlags(values);
  const c = m.model.config, ids = encodePrompt(m, prompt);
  const layer = intFlag('layer', values.layer, 0, c.n_layers - 1);
  const head = values.head === undefined ? 'average' : intFlag('head', values.head, 0, c.n_heads - 1);
  const query = values.query === undefined ? ids.length - 1 : intFlag('query', values.query, 0, ids.length - 1);
  const a = await runAttentionText(m.hooked, ids, (id) => m.tokenizer.piece(id), { layer, head, query, threshold });
  if (values.json) {
    console.log(JSON.stringify({ kind: 'attention', prompt, attention: a, provenance: provenance(m, { layer, head, query, threshold }) }, null, 2));
    return;
  }
  console.log(`attention of position ${query} (${displayPiece(a.tokens[query].text)}) in blocks.${layer}, ${head === 'average' ? 'mean over heads' : `head ${head}`}${threshold > 0 ? `, below ${threshold} hidden` : ''}:`);
  for (const t of a.tokens.slice(0, query + 1)) {
    console.log(`${String(t.position).padStart(5)}  ${cell(displayPiece(t.text), 14)} ${(t.weight * 100).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(t.shade * 20))}`);
  }
  console.log(`\n${m.provenance.name} sha256:${m.provenance.sha256.slice(0, 12)} · code ${m.figure.codeVersion}`);
}
