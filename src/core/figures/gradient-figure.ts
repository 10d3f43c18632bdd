/**
 * The gradient-map figure's data (methods.md §3, "gradient-based node importance", the
 * grad-CAM analogue): ‖∂L/∂h‖₂ for L = logits[p, y] and every block output and intermediate
 * state h, from analysis/gradient.ts. The build (Node) and the page's Worker run this same
 * function. The gradient graph runs on the figure's backend; should it fail on WebGPU, the
 * figure alone falls back to WebAssembly and its provenance says so.
 */
import { computeGradientImportance, type GradientImportance } from '../analysis/gradient.ts';
import type { Backend } from '../engine/runtime.ts';
import { isLenspressError, LenspressError } from '../errors.ts';
import type { LoadedModel } from '../model/weights.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { FigureContext, FigureData } from './figure-kind.ts';

export type GradientScale = 'log' | 'linear';
export type GradientStates = 'all' | 'block';

export interface GradientFigureProps {
  prompt: string;
  /** Target position; negative counts from the end (−1: the last token). */
  position: number;
  /** Target token as text ("▁play", "play"); empty: the model's own top prediction. */
  token: string;
  scale: GradientScale;
  states: GradientStates;
}

export interface GradientRow {
  label: string;
  /** embed: x^(0); mid: x'^(ℓ) (after attention); block: x^(ℓ). */
  state: 'embed' | 'mid' | 'block';
  layer: number;
  /** ‖∂L/∂h‖₂ per position. */
  values: number[];
}

export interface GradientFigureData extends FigureData {
  kind: 'gradient';
  inputIds: number[];
  /** Vocabulary pieces of the input tokens, the target and the predictions. */
  pieces: Record<number, string>;
  /** Bottom (the embedding) first. */
  rows: GradientRow[];
  target: { position: number; tokenId: number; logit: number; /** The token was the model's argmax (no token given). */ argmax: boolean };
  /** The model's most probable next tokens at the target position: candidates for a target. */
  predictions: { id: number; p: number }[];
  scale: GradientScale;
  states: GradientStates;
}

const PREDICTIONS = 5;

/**
 * A token typed by the reader, as one vocabulary id: an exact piece when it starts with "▁"
 * or is a control piece ("<s>"); otherwise the text as SentencePiece encodes it after a space
 * ("play" → "▁play"), which must be one token; failing that, an exact piece ("ing").
 */
export function resolveTokenText(tokenizer: TextTokenizer, text: string): number {
  const pieces = new Map<string, number>();
  for (let id = 0; id < tokenizer.vocabSize; id++) if (!pieces.has(tokenizer.piece(id))) pieces.set(tokenizer.piece(id), id);
  const exact = pieces.get(text);
  if (exact !== undefined && (text.startsWith('\u2581') || /^<.*>$/.test(text))) return exact;
  let ids = tokenizer.encode(text, { addBos: false });
  if (ids.length > 1 && tokenizer.piece(ids[0]) === '\u2581') ids = ids.slice(1);
  if (ids.length === 1) return ids[0];
  if (exact !== undefined) return exact;
  const split = ids.map((id) => tokenizer.piece(id)).join(' ');
  throw new LenspressError('bad-target', `the target token "${text}" is not one token of the vocabulary: it splits into ${ids.length} (${split}); give one of them`);
}

/** Rows bottom-up: embed, then per block its intermediate (when `all`) and its output. */
export function gradientRows(g: GradientImportance, states: GradientStates): GradientRow[] {
  const rows: GradientRow[] = [{ label: g.rows[0], state: 'embed', layer: 0, values: g.gradNorm[0] }];
  g.midNorm.forEach((mid, l) => {
    if (states === 'all') rows.push({ label: g.midRows[l], state: 'mid', layer: l + 1, values: mid });
    rows.push({ label: g.rows[l + 1], state: 'block', layer: l + 1, values: g.gradNorm[l + 1] });
  });
  return rows;
}

function resolvePosition(position: number, T: number): number {
  const p = position < 0 ? T + position : position;
  if (!Number.isInteger(position) || p < 0 || p >= T) {
    throw new LenspressError('bad-target', `the target position must be from 0 to ${T - 1}, or from −${T} to −1 counting from the end (the prompt has ${T} tokens with <s>); got ${position}`);
  }
  return p;
}

/** The backward graph on the figure's backend; on WebGPU, a failure retries on WebAssembly (same runtime module). */
async function gradientsWithFallback(backend: Backend, model: LoadedModel, ids: number[], target: { position: number; tokenId?: number }): Promise<{ g: GradientImportance; backendLabel: string }> {
  try {
    return { g: await computeGradientImportance(backend, model, ids, target), backendLabel: backend.label };
  } catch (e) {
    if (isLenspressError(e) || !backend.executionProviders.includes('webgpu')) throw e;
    const wasm: Backend = { ort: backend.ort, executionProviders: ['wasm'], label: 'WebAssembly (onnxruntime-web)' };
    const g = await computeGradientImportance(wasm, model, ids, target);
    return { g, backendLabel: `${wasm.label}: the gradient graph failed on ${backend.label} (${(e as Error).message ?? e})` };
  }
}

function topPredictions(logits: Float32Array, k: number): { id: number; p: number }[] {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let z = 0;
  for (const x of logits) z += Math.exp(x - max);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, k).map((id) => ({ id, p: Math.exp(logits[id] - max) / z }));
}

export async function gradientFigure(ctx: FigureContext, props: GradientFigureProps): Promise<GradientFigureData> {
  if (props.prompt.trim() === '') throw new LenspressError('empty-prompt', 'the prompt is empty: type some text to run the model on');
  const { hooked, tokenizer } = ctx;
  const ids = tokenizer.encode(props.prompt, { addBos: true });
  const position = resolvePosition(props.position, ids.length);
  const token = props.token.trim();
  const tokenId = token === '' ? undefined : resolveTokenText(tokenizer, token);
  const logits = (await hooked.run(ids, ['logits'])).get('logits')!.data;
  const V = hooked.config.d_vocab;
  const predictions = topPredictions(logits.subarray(position * V, (position + 1) * V), PREDICTIONS);
  const { g, backendLabel } = await gradientsWithFallback(hooked.backend, hooked.model, ids, { position, tokenId });
  const pieces: Record<number, string> = {};
  for (const id of [...ids, g.target.tokenId, ...predictions.map((x) => x.id)]) pieces[id] = tokenizer.piece(id);
  return {
    kind: 'gradient',
    prompt: props.prompt,
    inputIds: ids,
    pieces,
    rows: gradientRows(g, props.states),
    target: { ...g.target, argmax: tokenId === undefined },
    predictions,
    scale: props.scale,
    states: props.states,
    provenance: {
      model: ctx.model,
      codeVersion: ctx.codeVersion,
      backend: backendLabel,
      settings: { target_position: position, target_token: tokenizer.piece(g.target.tokenId), states: props.states, scale: props.scale },
    },
  };
}
