/**
 * Props of the components authors place in MDX, as zod schemas: one source for validation,
 * types and the generated documentation. An invalid prop fails the build with a message
 * that says what was received and what was expected.
 */
import { z } from 'zod';
import { DEFAULT_MODEL } from '../core/model/registry.ts';
import { parseAnalogy } from '../core/figures/analogy-figure.ts';
import { RELATIONS } from '../core/analysis/relations/index.ts';

/**
 * The model that computes a figure: by default the site's figure model — $LENSPRESS_FIGURE_MODEL,
 * which `lenspress figures --model …` sets, else the default model (stories260K). Any model
 * spec the CLI accepts: a known name, a Hugging Face folder, a .gguf or .bin file, a hub id.
 */
export const modelProp = z
  .string()
  .min(1)
  .default(() => process.env.LENSPRESS_FIGURE_MODEL || DEFAULT_MODEL)
  .describe('The model that computes the figure (default: the site\'s figure model, stories260K unless `lenspress figures --model …` says otherwise).');

export const LogitLensProps = z
  .object({
    prompt: z.string().trim().min(1, 'prompt must not be empty').describe('The prompt the figure is precomputed for; readers can edit it. Example: "Once upon a time".'),
    norm: z.enum(['none', 'norm', 'model']).default('model').describe('Normalisation before decoding: none, norm (x/RMS(x)), model (the final RMSNorm with γ).'),
    k: z.number().int().min(1).max(20).default(5).describe('Tokens listed per cell on hover/focus.'),
    state: z.enum(['block', 'intermediate', 'attn', 'ffn', 'diff']).default('block').describe('Which state is decoded: block output, intermediate, attention delta, feed-forward delta, or the layer difference.'),
    decoder: z.enum(['output', 'input', 'linear', 'quadratic', 'maxprob']).default('output').describe('Decoder matrix: output (W_U, the classic logit lens), input (W_E), linear or quadratic interpolation, or max-probability.'),
    secondary: z.enum(['topk', 'iterative']).default('topk').describe('Secondary representations: top-k, or iterative subtraction (methods.md §2).'),
    color: z.enum(['prob', 'entropy', 'att-share', 'ff-share', 'kl']).default('prob').describe('What the cell colour shows: top-1 probability, entropy, attention share, feed-forward share, KL to the row below.'),
    generate: z.number().int().min(0).max(64).default(0).describe('Tokens to generate after the prompt before decoding (0 = none); the figure marks the prompt/generation boundary.'),
    temperature: z.number().min(0).max(2).default(0).describe('Sampling temperature for generated tokens (0 = greedy).'),
    topK: z.number().int().min(0).default(0).describe('Sample only among the k most likely tokens (0 = no limit).'),
    topP: z.number().gt(0).max(1).default(1).describe('Nucleus sampling: the smallest set of tokens whose probability reaches p (1 = no limit).'),
    seed: z.number().int().min(0).max(2 ** 31).default(0).describe('Seed of the sampler, so sampled text is reproducible.'),
    model: modelProp,
    caption: z.string().optional().describe('Figure caption shown above the provenance line.'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'id must be lowercase letters, digits and dashes, starting with a letter').optional().describe('The figure\'s id: its anchor and its key in shared links (default: derived from its props).'),
  })
  .strict();

export type LogitLensProps = z.infer<typeof LogitLensProps>;

/** What the analysis figures (FlowSankey, HeadContributions, AttentionText) share: prompt, model, caption, id. */
const figureCommon = {
  prompt: z.string().trim().min(1, 'prompt must not be empty').describe('The prompt the figure is precomputed for; readers can edit it. Example: "Once upon a time".'),
  model: modelProp,
  caption: z.string().optional().describe('Figure caption shown above the provenance line.'),
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'id must be lowercase letters, digits and dashes, starting with a letter').optional().describe('The figure\'s id: its anchor and its key in shared links (default: derived from its props).'),
};

/** <FlowSankey>: information flow as a vertical Sankey diagram (methods.md §3). */
export const FlowSankeyProps = z
  .object({
    ...figureCommon,
    row: z.number().int().default(-1).describe('Start row as in the logit lens: 0 = embedding, ℓ = block ℓ\'s output, L+1 = final norm; negative counts from the top (−1 = final norm). Example: row={3}.'),
    position: z.number().int().default(-1).describe('Start position; negative counts from the end (−1 = the last token). Example: position={5}.'),
    generated: z.number().int().min(0).max(32).default(0).describe('Generate this many tokens greedily and start from the positions that produced them, mass 1/N each (0 = start at row/position). Example: generated={3}.'),
    layers: z.number().int().min(0).default(0).describe('How many blocks to trace back from the start (0 = all, down to the embedding).'),
    links: z.enum(['top-k', 'min-weight']).default('top-k').describe('Which attention links are drawn: the top-k per attention node, or all with head-averaged weight ≥ minWeight. Masses never change.'),
    topK: z.number().int().min(1).max(16).default(1).describe('k for links="top-k".'),
    minWeight: z.number().min(0).max(1).default(0.1).describe('The minimum weight for links="min-weight".'),
    hideBos: z.boolean().default(false).describe('Drop the BOS key and renormalise attention over the rest (attention sinks otherwise dominate).'),
    shadeBy: z.enum(['layer', 'position']).default('layer').describe('Node shading within each type\'s hue: by layer or by position.'),
    minLinkWidth: z.number().min(0).max(10).default(1).describe('Thinnest link drawn, px (tiny masses stay visible).'),
    maxLinkWidth: z.number().min(2).max(40).default(28).describe('Width of a link of mass 1, px (the widest possible).'),
  })
  .strict()
  .refine((p) => p.maxLinkWidth >= p.minLinkWidth, { message: 'maxLinkWidth must be at least minLinkWidth', path: ['maxLinkWidth'] });

export type FlowSankeyProps = z.infer<typeof FlowSankeyProps>;

/** <HeadContributions>: each head's L2 norm against its cosine to the attention output (methods.md §4). */
export const HeadContributionsProps = z
  .object({
    ...figureCommon,
    positions: z.enum(['all', 'first', 'last']).default('all').describe('Which positions\' (layer, head) pairs are plotted, correlated and ranked: all, or the first/last `count`.'),
    count: z.number().int().min(1).max(512).default(10).describe('N for positions="first" or "last"; a prompt shorter than N uses all its positions. Example: count={10}.'),
    topK: z.number().int().min(1).max(20).default(5).describe('Rows in each top-heads table (by mean norm, by mean cosine).'),
  })
  .strict();

export type HeadContributionsProps = z.infer<typeof HeadContributionsProps>;

/** <AttentionText>: the prompt's text shaded by the attention from one query position. */
export const AttentionTextProps = z
  .object({
    ...figureCommon,
    layer: z.number().int().default(1).describe('Block index as in TransformerLens (blocks.{layer}, from 0); negative counts from the last block. Example: layer={1}.'),
    head: z.union([z.literal('average'), z.number().int().min(0)]).default('average').describe('A head index from 0, or "average" (the mean over heads). Example: head={3}.'),
    query: z.number().int().default(-1).describe('The query position whose attention is shown; negative counts from the end (−1 = the last token).'),
    threshold: z.number().min(0).max(1).default(0).describe('Weights below this are not shaded (0 = show every weight).'),
    minWidth: z.number().min(0).max(20).default(1).describe('Thinnest bar under a shaded token, px.'),
    maxWidth: z.number().min(0).max(20).default(6).describe('Bar under the most attended token, px.'),
    scale: z.enum(['max', 'absolute']).default('max').describe('Shade relative to the largest weight on the row ("max": weak rows stay readable) or the weight itself ("absolute": comparable across figures).'),
    width: z.number().int().min(240).max(1200).default(640).describe('Figure width in px; the text wraps to it.'),
  })
  .strict()
  .refine((p) => p.maxWidth >= p.minWidth, { message: 'maxWidth must be at least minWidth', path: ['maxWidth'] });

export type AttentionTextProps = z.infer<typeof AttentionTextProps>;

/** <GradientMap>: ‖∂L/∂h‖₂ for a target logit L over every block output and intermediate (methods.md §3). */
export const GradientMapProps = z
  .object({
    ...figureCommon,
    position: z.number().int().default(-1).describe('Target position L is read at; negative counts from the end (−1: the last token). Checked against the prompt\'s length when computed. Example: position={5}.'),
    token: z.string().default('').describe('Target token as text ("play" or "▁play"; one token); empty: the model\'s top prediction at that position.'),
    states: z.enum(['all', 'block']).default('all').describe('Rows: block outputs and the intermediates after attention, interleaved ("all"), or block outputs only.'),
    scale: z.enum(['log', 'linear']).default('log').describe('Colour scale of ‖∂L/∂h‖₂.'),
  })
  .strict();
export type GradientMapProps = z.infer<typeof GradientMapProps>;

/** <AnalogyExplorer>: a:b::c:? and averaged-offset analogies on W_E and W_U (methods.md §6). */
export const AnalogyExplorerProps = z
  .object({
    ...figureCommon,
    prompt: z.string().trim().min(1, 'prompt must not be empty').superRefine((text, c) => {
      try {
        parseAnalogy(text);
      } catch (e) {
        c.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
      }
    }).describe('The analogy: "man:king::woman:?" (a:b::c:?), or "France:?" with a relation. Readers can edit it.'),
    relation: z.enum(['none', ...Object.keys(RELATIONS)] as [string, ...string[]]).default('none').describe('A relation set for the averaged offset c + Δ and the top-k accuracy, or none.'),
    k: z.number().int().min(1).max(20).default(5).describe('Answers listed per query.'),
    multi: z.enum(['first', 'mean']).default('first').describe('A word the tokenizer splits: its first token\'s row, or the mean of its rows.'),
  })
  .strict();
export type AnalogyExplorerProps = z.infer<typeof AnalogyExplorerProps>;

/** <MarkovProbe>: Q(y|x) = softmax(W_E[x]·W_Uᵀ) beside corpus bigrams P(y|x) (methods.md §7). */
export const MarkovProbeProps = z
  .object({
    ...figureCommon,
    prompt: z.string().trim().min(1, 'prompt must not be empty').describe('Text whose tokens are the source tokens x (with sources="prompt"); readers can edit it. Example: "Once upon a time".'),
    sources: z.enum(['prompt', 'frequent']).default('prompt').describe('Source tokens: the prompt\'s (distinct, <s> included), or the corpus\'s most frequent.'),
    rows: z.number().int().min(1).max(40).default(12).describe('At most this many source tokens are listed.'),
    k: z.number().int().min(1).max(10).default(5).describe('Size of the top-k lists and of the top-k agreement.'),
    norm: z.enum(['none', 'model']).default('none').describe('The probe: W_E[x]·W_Uᵀ ("none"), or W_E[x] through the final RMSNorm with γ ("model").'),
    minCount: z.number().int().min(1).default(5).describe('Sources seen fewer times than this in the corpus are left out of the aggregate metrics.'),
  })
  .strict();
export type MarkovProbeProps = z.infer<typeof MarkovProbeProps>;

/** Astro adds data-astro-cid-* to components placed in an .astro page with scoped styles: not author props. */
function withoutAstroAttributes(received: unknown): unknown {
  if (!received || typeof received !== 'object' || Array.isArray(received)) return received;
  return Object.fromEntries(Object.entries(received).filter(([k]) => !k.startsWith('data-astro-')));
}

export function parseProps<S extends z.ZodTypeAny>(schema: S, rawProps: unknown, component: string): z.infer<S> {
  const received = withoutAstroAttributes(rawProps);
  const r = schema.safeParse(received);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `  - ${i.path.join('.') || '(props)'}: ${i.message}`).join('\n');
  throw new Error(`<${component}> has invalid props.\nReceived: ${JSON.stringify(received)}\nProblems:\n${problems}`);
}
