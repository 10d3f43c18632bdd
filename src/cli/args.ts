/** Flag parsing shared by the subcommands. */
import { parseArgs } from 'node:util';
import { LenspressError } from '../core/errors.ts';

/** Every subcommand accepts these. */
export const COMMON_OPTIONS = {
  model: { type: 'string', default: 'stories260K' },
  tokenizer: { type: 'string' },
  /** A Hugging Face access token for gated models (default $HF_TOKEN). */
  token: { type: 'string' },
  prompt: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

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


/** Parses an integer flag within [min, max], or says what was expected. */
export function intFlag(name: string, value: string | boolean | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < min || n > max) {
    throw new LenspressError('bad-option', `--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Checks a flag against its allowed values. */
export function choiceFlag<T extends string>(name: string, value: string | boolean | undefined, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) throw new LenspressError('bad-option', `--${name} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}
