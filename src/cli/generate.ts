import { generateGreedy } from '../core/engine/generate.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

export async function generateCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { 'max-new-tokens': { type: 'string', default: '40' } });
  const prompt = requirePrompt(values.prompt as string | undefined);
  const maxNew = intFlag('max-new-tokens', values['max-new-tokens'], 0);
  const m = await openFromFlags(values);
  const promptIds = prompt === '' ? [m.model.config.bos_token_id] : m.tokenizer.encode(prompt, { addBos: true });
  const ids = await generateGreedy(m.hooked, promptIds, { maxNewTokens: maxNew });
  if (values.json) {
    console.log(JSON.stringify({ model: m.provenance, promptIds, ids, tokens: ids.map((id) => m.tokenizer.piece(id)), text: m.tokenizer.decode(ids) }, null, 2));
  } else {
    console.log(m.tokenizer.decode([...promptIds, ...ids]));
  }
}
