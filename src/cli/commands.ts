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
  figures: { usage: 'figures  --model M   (recompute every article\'s figures with model M and rebuild the site)', run: async (a) => (await import('./figures.ts')).figuresCommand(a) },
  inspect: { usage: 'inspect  --model M [--tokens N] [--json]', run: inspectCommand },
  grad: { usage: 'grad     --model M --prompt TEXT [--position P] [--token ID|--token-text S] [--json]', run: async (a) => (await import('./grad.ts')).gradCommand(a) },
  lens: { usage: 'lens     --model M --prompt TEXT [--state block|intermediate|attn|ffn|diff] [--decoder output|input|linear|quadratic|maxprob] [--norm none|norm|model] [--secondary topk|iterative] [--k 5] [--color prob|entropy|att-share|ff-share|kl] [--json]', run: lensCommand },
  analogy: { usage: 'analogy  --model M (--a A --b B --c C | --relation capital-of|male-female|plural|comparative|past-tense|all) [--matrix in|out|both] [--k 5] [--multi first|mean] [--vectors wink] [--json]', run: async (a) => (await import('./analogy.ts')).analogyCommand(a) },
  flow: { usage: 'flow     --model M --prompt TEXT [--layer ROW --position P | --generated N] [--layers K] [--top-k 1 | --min-weight W] [--hide-bos] [--json]', run: async (a) => (await import('./flow.ts')).flowCommand(a) },
  heads: { usage: 'heads    --model M --prompt TEXT [--first N | --last N] [--top-k 10] [--json]', run: async (a) => (await import('./heads.ts')).headsCommand(a) },
  attention: { usage: 'attention --model M --prompt TEXT --layer L [--head H | --average] [--query P] [--threshold T] [--json]', run: async (a) => (await import('./attention.ts')).attentionCommand(a) },
  markov: { usage: 'markov   --model M [--corpus FILE | --sample-tokens N [--seed S] [--temperature T] [--save-corpus FILE]] [--k 5] [--norm none|model] [--min-count 5] [--epsilon 1e-6] [--json]', run: async (a) => (await import('./markov.ts')).markovCommand(a) },
};
