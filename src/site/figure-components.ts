/**
 * The figure components authors place in MDX, by name: each one's props schema, the figure
 * kind that computes and draws it (src/core/figures/registry.ts), and the one function that
 * turns validated author props into the kind's props. Everything that needs a figure's data —
 * the component itself, <Value> (a number read from that data), the about page (generated
 * props tables) — goes through `resolveFigure`, so the same author props always give the
 * same kind props, hence the same figure-cache entry and exactly the same numbers.
 *
 * Adding a component: write its schema in props.ts (every field with `.describe()`), then one
 * entry below; its .astro file calls `loadFigure('<Name>', received)` (figure-data.ts).
 */
import type { z } from 'zod';
import { LenspressError } from '../core/errors.ts';
import { figureId } from './figure-id.ts';
import { AnalogyExplorerProps, AttentionTextProps, FlowSankeyProps, GradientMapProps, HeadContributionsProps, LogitLensProps, MarkovProbeProps, parseProps } from './props.ts';

/** What a figure kind computes from: its prompt plus its own options. */
export type KindProps = Record<string, unknown> & { prompt: string };

/** Author props every figure component shares: page chrome, not inputs of the computation. */
interface ChromeProps {
  model: string;
  caption?: string;
  id?: string;
}

export interface FigureComponent {
  /** The figure kind that computes and draws it. */
  kind: string;
  /** Validates author props (and supplies defaults); its field descriptions document them. */
  schema: z.ZodTypeAny;
  /** Prefix of ids derived from props ("lens" → "lens-1a2b3c4d"), kept stable for shared links. */
  idPrefix: string;
  /** One sentence for the about page. */
  summary: string;
  /** Props of a working example, shown on the about page (and parsed by a unit test). */
  example: Record<string, unknown>;
  /** Validated author props → the kind's props (what is computed, cached and re-run in the page). */
  toKindProps(parsed: Record<string, unknown>): KindProps;
}

/** The default mapping: everything but the chrome props goes to the kind. */
export function withoutChrome(parsed: Record<string, unknown>): KindProps {
  const { model: _model, caption: _caption, id: _id, ...props } = parsed;
  return props as KindProps;
}

export const FIGURE_COMPONENTS: Record<string, FigureComponent> = {
  LogitLens: {
    kind: 'logit-lens',
    schema: LogitLensProps,
    idPrefix: 'lens',
    summary: 'The logit lens: every layer\u2019s residual stream decoded to next-token predictions, as a heatmap over layers and positions.',
    example: { prompt: 'Once upon a time, there was a little girl named Lily.' },
    toKindProps: withoutChrome,
  },
  FlowSankey: {
    kind: 'flow',
    schema: FlowSankeyProps,
    idPrefix: 'flow',
    summary: 'Information flow as a vertical Sankey diagram: the mass of one cell traced back through attention and feed-forward updates to the embedding.',
    example: { prompt: 'Once upon a time, there was a little girl named Lily.' },
    toKindProps: withoutChrome,
  },
  HeadContributions: {
    kind: 'heads',
    schema: HeadContributionsProps,
    idPrefix: 'heads',
    summary: 'Each attention head\u2019s L2 norm against its cosine to the attention output, with Pearson, Spearman and Kendall correlations and the top heads by each.',
    example: { prompt: 'Better safe than' },
    toKindProps: withoutChrome,
  },
  AttentionText: {
    kind: 'attention-text',
    schema: AttentionTextProps,
    idPrefix: 'attention',
    summary: 'The prompt\u2019s text shaded by the attention one query position pays to each token, for one head or the mean over heads.',
    example: { prompt: 'Tom had a red ball. He gave the ball to' },
    toKindProps: withoutChrome,
  },
  GradientMap: {
    kind: 'gradient',
    schema: GradientMapProps,
    idPrefix: 'gradient',
    summary: 'How strongly each layer\u2019s state at each position moves one output logit: \u2016\u2202L/\u2202h\u2016\u2082 over layers and positions.',
    example: { prompt: 'Tom had a red ball. He liked to' },
    toKindProps: withoutChrome,
  },
  AnalogyExplorer: {
    kind: 'analogy',
    schema: AnalogyExplorerProps,
    idPrefix: 'analogy',
    summary: 'Word analogies a:b::c:? and averaged relation offsets on the model\u2019s embedding and unembedding matrices.',
    example: { prompt: 'man:king::woman:?' },
    toKindProps: withoutChrome,
  },
  MarkovProbe: {
    kind: 'markov',
    schema: MarkovProbeProps,
    idPrefix: 'markov',
    summary: 'The first-order probe softmax(W_E[x]\u00b7W_U\u1d40) beside the bigram statistics of a corpus the model wrote.',
    example: { prompt: 'Once upon a time' },
    toKindProps: withoutChrome,
  },
};

/** A figure component's props, validated and split into what the page shows and what is computed. */
export interface ResolvedFigure {
  component: string;
  kind: string;
  model: string;
  caption?: string;
  /** The figure's anchor on the page: the author's `id`, else derived from the kind props. */
  id: string;
  props: KindProps;
}

export function figureComponent(name: string): FigureComponent {
  const c = Object.hasOwn(FIGURE_COMPONENTS, name) ? FIGURE_COMPONENTS[name] : undefined;
  if (!c) throw new LenspressError('unknown-component', `unknown figure component <${name}>: expected one of ${Object.keys(FIGURE_COMPONENTS).join(', ')}`);
  return c;
}

/** Validates a component's author props (failing with what was received and expected) and maps them. */
export function resolveFigure(name: string, received: unknown): ResolvedFigure {
  const c = figureComponent(name);
  const parsed = parseProps(c.schema, received, name) as Record<string, unknown> & ChromeProps;
  const props = c.toKindProps(parsed);
  return { component: name, kind: c.kind, model: parsed.model, ...(parsed.caption !== undefined ? { caption: parsed.caption } : {}), id: parsed.id ?? figureId(c.idPrefix, props), props };
}
