/**
 * Article tags: each tag has a page at /tags/<slug>/ listing its articles. Slugs are
 * lowercase and URL-safe ("stories260K" → "stories260k"), so tags that differ only in case
 * share one page (labelled as first seen, newest article first).
 */
export function tagSlug(tag: string): string {
  const slug = tag
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'tag';
}

export interface TagGroup<A> {
  slug: string;
  label: string;
  articles: A[];
}

/** Tags of the given articles (in their order) with the articles carrying each, sorted by label. */
export function groupByTag<A extends { data: { tags: string[] } }>(articles: A[]): TagGroup<A>[] {
  const groups = new Map<string, TagGroup<A>>();
  for (const a of articles) {
    for (const tag of new Set(a.data.tags)) {
      const slug = tagSlug(tag);
      let g = groups.get(slug);
      if (!g) groups.set(slug, (g = { slug, label: tag, articles: [] }));
      if (!g.articles.includes(a)) g.articles.push(a);
    }
  }
  return [...groups.values()].sort((x, y) => x.label.localeCompare(y.label, 'en', { sensitivity: 'base' }));
}
