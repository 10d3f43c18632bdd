import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { ArticleFrontmatter } from './site/frontmatter.ts';

// Articles live in content/ at the repository root (not src/content) so authors find them
// easily; the entry id (file name without extension) is the URL slug. The frontmatter schema
// lives in src/site/frontmatter.ts so the about page can document it from the same source.
const articles = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: './content' }),
  schema: ArticleFrontmatter,
});

export const collections = { articles };
