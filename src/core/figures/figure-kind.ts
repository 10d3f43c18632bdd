/**
 * A figure kind: how to compute its data from a model and props, how to draw it, how to
 * export it. The build (Node) and the page's Worker call the same `compute`; the build and
 * the page call the same `render`. Each kind lives in its own file and is listed in
 * registry.ts.
 */
import type { HookedModel } from '../engine/hooked-model.ts';
import type { ModelProvenance } from '../model/open.ts';
import type { RenderContext } from '../render/svg.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { Provenance } from './provenance.ts';

/** What a figure's computation gets: the model (hooked), its tokenizer and provenance. */
export interface FigureContext {
  hooked: HookedModel;
  tokenizer: TextTokenizer;
  model: ModelProvenance;
  codeVersion: string;
}

/** Every figure's data carries at least these. */
export interface FigureData {
  kind: string;
  prompt: string;
  provenance: Provenance;
}

/** A control the reader can change before Run; its value becomes the prop of the same name. */
export type ControlSpec =
  | { name: string; label: string; type: 'select'; options: readonly (string | { value: string; label: string })[] }
  | { name: string; label: string; type: 'number'; min: number; max: number; step?: number }
  | { name: string; label: string; type: 'checkbox' }
  | { name: string; label: string; type: 'text'; placeholder?: string };

export interface FigureKind<P extends { prompt: string }, D extends FigureData> {
  kind: string;
  /** Options the reader can change in the page (rendered as form controls). */
  controls: readonly ControlSpec[];
  compute(ctx: FigureContext, props: P): Promise<D>;
  /** Draws the figure (SVG or HTML) with the given document (linkedom at build time). */
  render(data: D, ctx: RenderContext): Element;
  /** CSV export: header line included. */
  csv(data: D): string;
  /** Text for the details panel when the reader hovers or focuses `target` (an element of the render). */
  details?(data: D, target: Element): { title: string; items: string[] } | null;
  /** Controls that depend on the figure's model (e.g. one option per head); `controls` otherwise. */
  controlsFor?(data: D): readonly ControlSpec[];
  /**
   * A click (or Enter) on `target` selects a cell — row as in the logit lens (0 = embedding,
   * L+1 = final norm), position — for other figures on the page: the page dispatches the
   * `lp-select-cell` event on `document` with it as `detail`.
   */
  selectCell?(data: D, target: Element): { row: number; position: number } | null;
  /** On `lp-select-cell` from another figure: the control values to set (the reader then presses Run). */
  onSelectCell?(cell: { row: number; position: number }): Record<string, string | number | boolean>;
}

/** A kind with its types erased, as the registry stores it. */
export type AnyFigureKind = FigureKind<{ prompt: string } & Record<string, unknown>, FigureData>;
