/**
 * Props of the components authors place in MDX, as zod schemas: one source for validation,
 * types and the generated documentation. An invalid prop fails the build with a message
 * that says what was received and what was expected.
 */
import { z } from 'zod';
import { KNOWN_MODELS, DEFAULT_MODEL } from '../core/model/registry.ts';

export const LogitLensProps = z
  .object({
    /** The prompt the figure is precomputed for; readers can edit it. Example: "Once upon a time". */
    prompt: z.string().trim().min(1, 'prompt must not be empty'),
    /** Normalisation before decoding: none, norm (x/RMS(x)), model (the final RMSNorm with γ). */
    norm: z.enum(['none', 'norm', 'model']).default('model'),
    /** Tokens listed per cell on hover/focus. */
    k: z.number().int().min(1).max(20).default(5),
    /** Which state is decoded: block output, intermediate, attention delta, feed-forward delta, or the layer difference. */
    state: z.enum(['block', 'intermediate', 'attn', 'ffn', 'diff']).default('block'),
    /** Decoder matrix: output (W_U, the classic logit lens), input (W_E), linear or quadratic interpolation, or max-probability. */
    decoder: z.enum(['output', 'input', 'linear', 'quadratic', 'maxprob']).default('output'),
    /** Secondary representations: top-k, or iterative subtraction (methods.md §2). */
    secondary: z.enum(['topk', 'iterative']).default('topk'),
    /** What the cell colour shows: top-1 probability, entropy, attention share, feed-forward share, KL to the row below. */
    color: z.enum(['prob', 'entropy', 'att-share', 'ff-share', 'kl']).default('prob'),
    /** A known model name. */
    model: z.string().refine((m) => m in KNOWN_MODELS, { message: `model must be one of: ${Object.keys(KNOWN_MODELS).join(', ')}` }).default(DEFAULT_MODEL),
    /** Figure caption shown above the provenance line. */
    caption: z.string().optional(),
    /** The figure's id: its anchor and its key in shared links (default: derived from its props). */
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'id must be lowercase letters, digits and dashes, starting with a letter').optional(),
  })
  .strict();

export type LogitLensProps = z.infer<typeof LogitLensProps>;

export function parseProps<S extends z.ZodTypeAny>(schema: S, received: unknown, component: string): z.infer<S> {
  const r = schema.safeParse(received);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `  - ${i.path.join('.') || '(props)'}: ${i.message}`).join('\n');
  throw new Error(`<${component}> has invalid props.\nReceived: ${JSON.stringify(received)}\nProblems:\n${problems}`);
}
