/**
 * Props of the text components authors use in MDX besides figures: <Value> (a number from a
 * figure's data), <Cite> and <Bibliography>. Zod schemas, like the figure props in props.ts:
 * they validate at build time and their descriptions are the about page's documentation.
 */
import { z } from 'zod';
import { VALUE_FORMATS } from './value-format.ts';

export const ValueProps = z
  .object({
    figure: z.string().min(1).describe('The figure component whose data holds the value, e.g. "HeadContributions" (see the components below).'),
    props: z.record(z.unknown()).describe('That figure\u2019s props, exactly as on the figure itself (same props, same cache entry, same number). Example: {{ prompt: "Better safe than" }}.'),
    path: z.string().min(1).describe('Where the value is in the figure\u2019s data: dotted keys and indices, e.g. "heads.correlation.pearson.statistic" (HeadContributions) or "grid.cells[-1][0].entropy" (LogitLens); a negative index counts from the end. The JSON export of the figure shows the data.'),
    format: z.enum(VALUE_FORMATS).optional().describe('fixed: digits after the point; percent: ×100 with a % sign; exp: 1.23 × 10⁻⁴; token: a vocabulary piece as the figures print it. Default: integers as they are, other numbers fixed.'),
    digits: z.number().int().min(0).max(20).optional().describe('Digits after the decimal point (of the mantissa for exp). Default: 3 for fixed, 1 for percent, 2 for exp.'),
    link: z.boolean().default(false).describe('Link the value to its figure (#id), which must then be on the same page.'),
  })
  .strict();
export type ValueProps = z.infer<typeof ValueProps>;

export const CiteProps = z
  .object({
    key: z.string().regex(/^[a-z0-9-]+(\s*,\s*[a-z0-9-]+)*$/, 'key must be one or more bibliography keys separated by commas, e.g. "tuned-lens" or "glove, word2vec"').describe('A key of src/site/bibliography.ts, or several separated by commas: "glove, word2vec".'),
    mode: z.enum(['paren', 'text']).default('paren').describe('paren: (Belrose et al., 2023); text: Belrose et al. (2023), for citing as part of the sentence.'),
    note: z.string().optional().describe('A locator after the year, e.g. "§3" or "Table 2" (with several keys, it goes after the last).'),
  })
  .strict();
export type CiteProps = z.infer<typeof CiteProps>;

export const BibliographyProps = z
  .object({
    keys: z.array(z.string()).optional().describe('The works to list. Default in an article: every work cited with <Cite> in it (filled in at build time).'),
    title: z.string().default('References').describe('The heading above the list; "" for none.'),
    cited: z.string().optional().describe('Filled in by the build from the article\u2019s <Cite> keys; authors leave it out.'),
  })
  .strict();
export type BibliographyProps = z.infer<typeof BibliographyProps>;
