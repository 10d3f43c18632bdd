/**
 * `lenspress lens`: the logit lens of a prompt, as a text table or JSON (methods.md §2).
 * The text table shows each cell's top-1 token (with --secondary iterative, its
 * iterative-subtraction tokens joined by +) and the value --color names; a trailing * marks
 * cells where W_in won under --decoder maxprob.
 */
import type { LensCell } from '../core/analysis/logit-lens.ts';
import { DECODERS } from '../core/analysis/lens-decoder.ts';
import { LENS_STATES } from '../core/analysis/lens-states.ts';
import type { NormMode } from '../core/onnx/decode-graph.ts';
import { LENS_COLORS, type LensColor, logitLensFigure } from '../core/figures/logit-lens-figure.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { choiceFlag, intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

const NORMS: NormMode[] = ['none', 'norm', 'model'];

const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(0)}%`);
const VALUE: Record<LensColor, (c: LensCell) => string> = {
  prob: (c) => percent(c.probs[0]),
  entropy: (c) => c.entropy.toFixed(2),
  'att-share': (c) => percent(c.metrics.attShare),
  'ff-share': (c) => percent(c.metrics.ffShare),
  kl: (c) => (c.metrics.kl === null ? '–' : c.metrics.kl.toFixed(2)),
};

export async function lensCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    state: { type: 'string', default: 'block' },
    decoder: { type: 'string', default: 'output' },
    norm: { type: 'string', default: 'model' },
    secondary: { type: 'string', default: 'topk' },
    k: { type: 'string', default: '5' },
    color: { type: 'string', default: 'prob' },
  });
  const prompt = requirePrompt(values.prompt as string | undefined);
  const state = choiceFlag('state', values.state, LENS_STATES);
  const decoder = choiceFlag('decoder', values.decoder, DECODERS);
  const norm = choiceFlag('norm', values.norm, NORMS);
  const secondary = choiceFlag('secondary', values.secondary, ['topk', 'iterative'] as const);
  const color = choiceFlag('color', values.color, LENS_COLORS);
  const m = await openFromFlags(values);
  const k = intFlag('k', values.k, 1, m.model.config.d_vocab);
  const fig = await logitLensFigure(m.figure, prompt, { state, decoder, norm, secondary, k, color });
  if (values.json) {
    console.log(JSON.stringify(fig, null, 2));
    return;
  }
  const { grid } = fig;
  const show = (id: number) => displayPiece(grid.pieces[id]);
  const width = secondary === 'iterative' ? 20 : 12;
  const pad = (s: string) => (s.length > width - 1 ? s.slice(0, width - 2) + '…' : s).padEnd(width);
  const cellText = (c: LensCell) => `${(c.secondary?.ids ?? c.ids.slice(0, 1)).map(show).join('+')}${c.winner === 'in' ? '*' : ''} ${VALUE[color](c)}`;
  console.log(pad('') + grid.inputIds.map((id) => pad(show(id))).join(''));
  grid.cells.forEach((row, r) => console.log(pad(grid.rowLabels[r]) + row.map((c) => pad(cellText(c))).join('')));
  const marks = decoder === 'maxprob' ? ' · * = W_in won' : '';
  console.log(`\n${fig.provenance.model.name} sha256:${fig.provenance.model.sha256.slice(0, 12)} · state=${state} · decoder=${decoder} · norm=${norm} · secondary=${secondary} · color=${color}${marks} · code ${fig.provenance.codeVersion}`);
}
