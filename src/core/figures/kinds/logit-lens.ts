/** The logit-lens figure kind: the heatmap of decoded states (see analysis/logit-lens.ts). */
import { DECODERS, type DecoderName } from '../../analysis/lens-decoder.ts';
import { LENS_STATES, type LensState } from '../../analysis/lens-states.ts';
import type { SecondaryMode } from '../../analysis/logit-lens.ts';
import type { NormMode } from '../../onnx/decode-graph.ts';
import { renderLogitLens } from '../../render/logit-lens-svg.ts';
import { pct } from '../../render/svg.ts';
import { displayPiece } from '../../tokenizer/tokenizer.ts';
import type { FigureKind } from '../figure-kind.ts';
import { logitLensCsv } from '../logit-lens-csv.ts';
import { LENS_COLORS, type LensColor, logitLensFigure, type LogitLensFigureData } from '../logit-lens-figure.ts';

export interface LogitLensFigureProps {
  prompt: string;
  norm: NormMode;
  k: number;
  state?: LensState;
  decoder?: DecoderName;
  secondary?: SecondaryMode;
  color?: LensColor;
  /** Tokens to generate after the prompt before decoding (0 = none), and how to sample them. */
  generate?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export const logitLensKind: FigureKind<LogitLensFigureProps, LogitLensFigureData> = {
  kind: 'logit-lens',
  controls: [
    { name: 'state', label: 'State', type: 'select', options: LENS_STATES },
    { name: 'decoder', label: 'Decoder', type: 'select', options: DECODERS },
    { name: 'norm', label: 'Normalisation', type: 'select', options: ['none', 'norm', 'model'] },
    { name: 'secondary', label: 'Secondary', type: 'select', options: ['topk', 'iterative'] },
    { name: 'color', label: 'Colour by', type: 'select', options: LENS_COLORS },
    { name: 'generate', label: 'New tokens', type: 'number', min: 0, max: 64 },
    { name: 'temperature', label: 'Temperature', type: 'number', min: 0, max: 2, step: 0.1 },
    { name: 'topP', label: 'Top-p', type: 'number', min: 0.05, max: 1, step: 0.05 },
    { name: 'seed', label: 'Seed', type: 'number', min: 0, max: 2 ** 31 },
  ],
  compute: (ctx, p) =>
    logitLensFigure(ctx, p.prompt, {
      norm: p.norm,
      k: p.k,
      state: p.state,
      decoder: p.decoder,
      secondary: p.secondary,
      color: p.color,
      generate: { maxNewTokens: p.generate ?? 0, sampling: { temperature: p.temperature ?? 0, topK: p.topK ?? 0, topP: p.topP ?? 1, seed: p.seed ?? 0 } },
    }),
  render: (data, ctx) => renderLogitLens(data, ctx),
  csv: logitLensCsv,
  details(data, target) {
    const cell = target.closest?.('g.cell');
    if (!cell) return null;
    const row = Number(cell.getAttribute('data-row')), pos = Number(cell.getAttribute('data-pos'));
    const { grid } = data;
    const c = grid.cells[row]?.[pos];
    if (!c) return null;
    return {
      title: `${grid.rowLabels[row]} · position ${pos} (${displayPiece(grid.pieces[grid.inputIds[pos]])}) · entropy ${c.entropy.toFixed(2)} nats`,
      items: c.ids.map((id, i) => `${displayPiece(grid.pieces[id])} — ${pct(c.probs[i])}`),
    };
  },
  // A cell click starts the flow diagrams on the page from that cell (data-row indexes grid.rows).
  selectCell(data, target) {
    const cell = target.closest?.('g.cell');
    const row = data.grid.rows[Number(cell?.getAttribute('data-row'))];
    return cell && row !== undefined ? { row, position: Number(cell.getAttribute('data-pos')) } : null;
  },
};
