/** The subcommands: one file each, registered here (one line per command). */
import { generateCommand } from './generate.ts';
import { inspectCommand } from './inspect.ts';
import { lensCommand } from './lens.ts';
import { runCommand } from './run.ts';

export interface Command {
  /** One usage line, without the leading "lenspress ". */
  usage: string;
  run: (args: string[]) => Promise<void>;
}

export const COMMANDS: Record<string, Command> = {
  generate: { usage: 'generate --model M --prompt TEXT [--max-new-tokens N] [--temperature T --top-k K --top-p P --seed S] [--json]', run: generateCommand },
  run: { usage: 'run      --model M (--prompt TEXT | --ids 1,2,3) [--hooks name,name…] [--json]', run: runCommand },
  inspect: { usage: 'inspect  --model M [--tokens N] [--json]', run: inspectCommand },
  lens: { usage: 'lens     --model M --prompt TEXT [--norm none|norm|model] [--k 5] [--json]', run: lensCommand },
};
