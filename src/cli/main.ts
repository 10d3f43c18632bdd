/**
 * `lenspress` — the command line. Each subcommand prints text for people, or JSON with
 * --json for programs. User errors print one line (no stack trace) and exit with 2.
 */
import { parseArgs } from 'node:util';
import { isLenspressError, LenspressError } from '../core/errors.ts';
import { generateCommand } from './generate.ts';
import { lensCommand } from './lens.ts';

const USAGE = `lenspress — interpretability figures from Llama-family models

Usage:
  lenspress generate --model M --prompt TEXT [--max-new-tokens N] [--json]
  lenspress lens     --model M --prompt TEXT [--norm none|norm|model] [--k 5] [--json]

--model: a known model name (stories260K) or a path to a llama2.c .bin file
         (its tokenizer beside it, or --tokenizer FILE).
Models are read from $LENSPRESS_MODELS (default ../shared/models when it exists),
else downloaded from the Hugging Face hub into $LENSPRESS_CACHE (~/.cache/lenspress).`;

export const COMMON_OPTIONS = {
  model: { type: 'string', default: 'stories260K' },
  tokenizer: { type: 'string' },
  prompt: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  generate: generateCommand,
  lens: lensCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
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
    // parseArgs reports bad flags with this code; they are user errors too.
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`lenspress ${command}: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`lenspress ${command}: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** Parses a subcommand's flags (plus the common ones); unknown flags are errors. */
export function parseCommand<O extends Options>(args: string[], options: O) {
  const { values } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: false });
  return values as Record<string, string | boolean | undefined>;
}

export function requirePrompt(prompt: string | undefined): string {
  if (prompt === undefined) throw new LenspressError('missing-option', '--prompt TEXT is required');
  return prompt;
}

export { USAGE };
