/**
 * `lenspress` — the command line. Each subcommand prints text for people, or JSON with
 * --json for programs. User errors print one line (no stack trace) and exit with 2.
 */
import { isAllocationFailure, outOfMemoryError } from '../core/engine/out-of-memory.ts';
import { isLenspressError } from '../core/errors.ts';
import { DEFAULT_MODEL } from '../core/model/registry.ts';
import { COMMANDS } from './commands.ts';
import { openedModel } from './open.ts';

const USAGE = `lenspress — interpretability figures from Llama-family models

Usage:
${Object.values(COMMANDS).map((c) => `  lenspress ${c.usage}`).join('\n')}

--model: a known model name (stories260K), a Hugging Face folder (config.json +
         safetensors + tokenizer.json), a .gguf file, a llama2.c .bin file (its
         tokenizer beside it, or --tokenizer FILE), or a hub id: org/name,
         org/name@revision, org/name:file.gguf (--token or $HF_TOKEN for gated models).
Models are read from $LENSPRESS_MODELS (default ../shared/models when it exists);
hub downloads are cached in $LENSPRESS_CACHE (~/.cache/lenspress).`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command]?.run;
  if (!run) {
    console.error(`lenspress: unknown command "${command}" (expected one of: ${Object.keys(COMMANDS).join(', ')})\n\n${USAGE}`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    if (isLenspressError(e)) {
      console.error(`lenspress ${command}: ${e.message}`);
      return 2;
    }
    if (isAllocationFailure(e)) {
      console.error(`lenspress ${command}: ${outOfMemory(rest, e).message}`);
      return 2;
    }
    // parseArgs reports bad flags with this code; they are user errors too.
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`lenspress ${command}: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`lenspress ${command}: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

/** Out of memory: the model (as opened, else as named by --model), its estimate for this prompt, what to do. */
function outOfMemory(args: string[], e: unknown) {
  const flag = (name: string) => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    return i < 0 ? undefined : args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
  };
  const m = openedModel();
  const prompt = flag('prompt');
  let tokens: number | undefined;
  try {
    tokens = prompt !== undefined ? m?.tokenizer.encode(prompt, { addBos: true }).length : flag('ids')?.split(',').length;
  } catch {
    // The estimate then assumes a typical prompt.
  }
  return outOfMemoryError({ model: m?.provenance.name ?? flag('model') ?? DEFAULT_MODEL, backend: 'node', config: m?.model.config, tokens, detail: String((e as Error)?.message ?? e) });
}

export { USAGE };
