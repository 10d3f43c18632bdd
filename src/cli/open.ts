/** Opens the model a command's --model/--tokenizer flags name, with its figure context. */
import type { FigureContext } from '../core/figures/logit-lens-figure.ts';
import { codeVersion } from '../node/code-version.ts';
import { type NodeModel, openModel } from '../node/open-model.ts';

let opened: NodeModel | undefined;

/** The model this command opened, for messages about it (main.ts: running out of memory). */
export function openedModel(): NodeModel | undefined {
  return opened;
}

export async function openFromFlags(values: Record<string, string | boolean | undefined>): Promise<NodeModel & { figure: FigureContext }> {
  const m = await openModel(values.model as string, { tokenizerPath: values.tokenizer as string | undefined, token: values.token as string | undefined });
  opened = m;
  return { ...m, figure: { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: codeVersion() } };
}
