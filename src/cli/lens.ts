import type { NormMode } from '../core/onnx/decode-graph.ts';
import { logitLensFigure } from '../core/figures/logit-lens-figure.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { choiceFlag, intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

const NORMS: NormMode[] = ['none', 'norm', 'model'];

export async function lensCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { norm: { type: 'string', default: 'model' }, k: { type: 'string', default: '5' } });
  const prompt = requirePrompt(values.prompt as string | undefined);
  const norm = choiceFlag('norm', values.norm, NORMS);
  const m = await openFromFlags(values);
  const k = intFlag('k', values.k, 1, m.model.config.d_vocab);
  const fig = await logitLensFigure(m.figure, prompt, { norm, k });
  if (values.json) {
    console.log(JSON.stringify(fig, null, 2));
    return;
  }
  const { grid } = fig;
  const show = (id: number) => displayPiece(grid.pieces[id]);
  const width = 12;
  const pad = (s: string) => (s.length > width - 1 ? s.slice(0, width - 2) + '…' : s).padEnd(width);
  console.log(pad('') + grid.inputIds.map((id) => pad(show(id))).join(''));
  grid.cells.forEach((row, r) => console.log(pad(grid.rowLabels[r]) + row.map((c) => pad(`${show(c.ids[0])} ${(c.probs[0] * 100).toFixed(0)}%`)).join('')));
  console.log(`\n${fig.provenance.model.name} sha256:${fig.provenance.model.sha256.slice(0, 12)} · norm=${norm} · code ${fig.provenance.codeVersion}`);
}
