/**
 * `lenspress grad`: gradient importance ‖∂logit/∂state‖₂ (methods.md §3) for every block
 * output and intermediate at every position, as JSON or a table (rows in forward order).
 */
import { computeGradientImportance, type GradientTarget } from '../core/analysis/gradient.ts';
import { LenspressError } from '../core/errors.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

export async function gradCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { position: { type: 'string' }, token: { type: 'string' }, 'token-text': { type: 'string' } });
  const prompt = requirePrompt(values.prompt as string | undefined);
  if (prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: give some text to run the model on');
  if (values.token !== undefined && values['token-text'] !== undefined) throw new LenspressError('bad-option', 'give --token ID or --token-text S, not both');
  const m = await openFromFlags(values);
  const ids = m.tokenizer.encode(prompt, { addBos: true });
  const target: GradientTarget = {};
  if (values.position !== undefined) target.position = intFlag('position', values.position, 0, ids.length - 1);
  if (values.token !== undefined) target.tokenId = intFlag('token', values.token, 0, m.model.config.d_vocab - 1);
  const text = values['token-text'] as string | undefined;
  if (text !== undefined) {
    const tokens = m.tokenizer.encode(text, { addBos: false });
    if (tokens.length !== 1) {
      throw new LenspressError('bad-option', `--token-text must be exactly one token; "${text}" is ${tokens.length}: ${tokens.map((id) => `${displayPiece(m.tokenizer.piece(id))} (${id})`).join(' ') || 'none'}`);
    }
    target.tokenId = tokens[0];
  }
  const result = await computeGradientImportance(m.hooked.backend, m.model, ids, target);
  const piece = (id: number) => m.tokenizer.piece(id);
  if (values.json) {
    const out = { kind: 'gradient-importance', prompt, ...result, tokens: ids.map(piece), targetPiece: piece(result.target.tokenId), model: m.provenance, backend: m.hooked.backend.label };
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const width = 10;
  const pad = (s: string) => (s.length > width - 1 ? s.slice(0, width - 2) + '…' : s).padEnd(width);
  const { position, tokenId, logit } = result.target;
  console.log(`‖∂L/∂state‖₂ for L = logit of ${displayPiece(piece(tokenId))} (id ${tokenId}) at position ${position} (${displayPiece(piece(ids[position]))}), L = ${logit.toFixed(4)}\n`);
  const width0 = 14;
  console.log(''.padEnd(width0) + ids.map((id) => pad(displayPiece(piece(id)))).join(''));
  const line = (label: string, row: number[]) => console.log(label.padEnd(width0) + row.map((v) => pad(v.toPrecision(3))).join(''));
  line(result.rows[0], result.gradNorm[0]);
  for (let l = 0; l < result.midNorm.length; l++) {
    line(result.midRows[l], result.midNorm[l]);
    line(result.rows[l + 1], result.gradNorm[l + 1]);
  }
  console.log(`\n${m.provenance.name} sha256:${m.provenance.sha256.slice(0, 12)} · ${m.hooked.backend.label}`);
}
