import { defineCollection, z } from 'astro:content';
import { glob } from 'astro/loaders';

// Articles live in content/ at the repository root (not src/content) so authors find them
// easily; the entry id (file name without extension) is the URL slug.
const articles = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: './content' }),
  schema: z.object({
    title: z.string(),
    summary: z.string(),
    date: z.coerce.date(),
    tags: z.array(z.string()),
    draft: z.boolean().default(false),
  }),
});

export const collections = { articles };
