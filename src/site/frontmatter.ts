/**
 * An article's frontmatter (content/<slug>.mdx): validated by the content collection
 * (src/content.config.ts) and documented on the about page from the same schema.
 */
import { z } from 'zod';

export const ArticleFrontmatter = z.object({
  title: z.string().describe('The article\u2019s title: its <h1>, the index entry and the browser tab.'),
  summary: z.string().describe('One or two sentences for the index and the page description.'),
  date: z.coerce.date().describe('Publication date, YYYY-MM-DD; the index lists newest first.'),
  tags: z.array(z.string()).describe('Topics, e.g. [logit-lens, stories260K]; each gets a page listing its articles.'),
  draft: z.boolean().default(false).describe('true: shown by `astro dev` only, never in the built site.'),
});
export type ArticleFrontmatter = z.infer<typeof ArticleFrontmatter>;
