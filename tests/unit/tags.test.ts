/** Tag pages: slugs and the grouping of articles by tag. */
import { describe, expect, it } from 'vitest';
import { groupByTag, tagSlug } from '../../src/lib/tags.ts';

describe('tags', () => {
  it('slugs are lowercase and URL-safe', () => {
    expect(tagSlug('logit-lens')).toBe('logit-lens');
    expect(tagSlug('stories260K')).toBe('stories260k');
    expect(tagSlug('Mistral 7B')).toBe('mistral-7b');
    expect(tagSlug('Décodage / lens')).toBe('decodage-lens');
    expect(tagSlug('///')).toBe('tag');
  });

  it('groups articles by tag, merging tags that differ only in case', () => {
    const a = { id: 'a', data: { tags: ['logit-lens', 'stories260K'] } };
    const b = { id: 'b', data: { tags: ['Stories260k', 'attention', 'attention'] } };
    const groups = groupByTag([a, b]);
    expect(groups.map((g) => [g.slug, g.label, g.articles.map((x) => x.id)])).toEqual([
      ['attention', 'attention', ['b']],
      ['logit-lens', 'logit-lens', ['a']],
      ['stories260k', 'stories260K', ['a', 'b']],
    ]);
  });
});
