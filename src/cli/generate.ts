import { generate } from '../core/engine/generate.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

export async function generateCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    'max-new-tokens': { type: 'string', default: '40' },
    temperature: { type: 'string', default: '0' },
    'top-k': { type: 'string', default: '0' },
    'top-p': { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
  });
  const prompt = requirePrompt(values.prompt as string | undefined);
  const maxNew = intFlag('max-new-tokens', values['max-new-tokens'], 0);
  const sampling = { temperature: Number(values.temperature), topK: intFlag('top-k', values['top-k'], 0), topP: Number(values['top-p']), seed: intFlag('seed', values.seed, 0, 2 ** 32 - 1) };
  const m = await openFromFlags(values);
  // An empty prompt starts from BOS alone, as llama2.c's run does.
  const promptIds = prompt === '' ? [m.model.config.bos_token_id] : m.tokenizer.encode(prompt, { addBos: true });
  const g = await generate(m.hooked, promptIds, { maxNewTokens: maxNew, sampling });
  if (values.json) {
    console.log(JSON.stringify({ model: m.provenance, sampling, promptIds, ids: g.ids, tokens: g.ids.map((id) => m.tokenizer.piece(id)), text: m.tokenizer.decode(g.ids), stopReason: g.stopReason }, null, 2));
  } else {
    console.log(m.tokenizer.decode([...promptIds, ...g.ids]));
  }
}
