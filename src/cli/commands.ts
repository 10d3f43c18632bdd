/** The subcommands: one file each, registered here (one line per command). */
import { generateCommand } from './generate.ts';
import { lensCommand } from './lens.ts';

export interface Command {
  /** One usage line, without the leading "lenspress ". */
  usage: string;
  run: (args: string[]) => Promise<void>;
}

export const COMMANDS: Record<string, Command> = {
  generate: { usage: 'generate --model M --prompt TEXT [--max-new-tokens N] [--json]', run: generateCommand },
  lens: { usage: 'lens     --model M --prompt TEXT [--norm none|norm|model] [--k 5] [--json]', run: lensCommand },
};
