import { generateGreedy } from '../core/engine/generate.ts';
import { LenspressError } from '../core/errors.ts';
import { openModel } from '../node/open-model.ts';
import { parseCommand, requirePrompt } from './main.ts';

export async function generateCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { 'max-new-tokens': { type: 'string', default: '40' } });
  const prompt = requirePrompt(values.prompt as string | undefined);
  const maxNew = Number(values['max-new-tokens']);
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new LenspressError('bad-option', `--max-new-tokens must be a whole number ≥ 0, got "${values['max-new-tokens']}"`);
  const m = await openModel(values.model as string, { tokenizerPath: values.tokenizer as string | undefined });
  const promptIds = prompt === '' ? [m.model.config.bos_token_id] : m.tokenizer.encode(prompt, { addBos: true });
  const ids = await generateGreedy(m.hooked, promptIds, { maxNewTokens: maxNew });
  if (values.json) {
    console.log(JSON.stringify({ model: m.provenance, promptIds, ids, tokens: ids.map((id) => m.tokenizer.piece(id)), text: m.tokenizer.decode(ids) }, null, 2));
  } else {
    console.log(m.tokenizer.decode([...promptIds, ...ids]));
  }
}
