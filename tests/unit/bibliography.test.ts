/** Citations: the bibliography's entries and labels, and the remark plugin that fills <Bibliography />. */
import { describe, expect, it } from 'vitest';
import { BIBLIOGRAPHY, bibEntry, citeNames, citeYear, entryUrl, referenceAuthors, refId, sortEntries, splitKeys } from '../../src/site/bibliography.ts';
import { citedKeys, type Node, remarkCitations } from '../../src/site/remark-citations.ts';

describe('the bibliography', () => {
  it('has unique, anchor-safe keys and well-formed identifiers', () => {
    const keys = BIBLIOGRAPHY.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of BIBLIOGRAPHY) {
      expect(e.key).toMatch(/^[a-z0-9-]+$/);
      expect(e.authors.length).toBeGreaterThan(0);
      expect(e.year).toBeGreaterThan(1900);
      if (e.arxiv) expect(e.arxiv, e.key).toMatch(/^\d{4}\.\d{4,5}$/);
      if (e.doi) expect(e.doi, e.key).toMatch(/^10\.\d{4,}\//);
      const url = entryUrl(e);
      if (url) expect(url, e.key).toMatch(/^https:\/\//);
    }
  });

  it('holds the works the articles cite', () => {
    const expected: Record<string, [string, number, string]> = {
      intravisto: ['Brunello et al.', 2025, 'https://arxiv.org/abs/2507.13858'],
      'logit-lens': ['nostalgebraist', 2020, 'https://www.lesswrong.com/posts/AcKRB8wDpdaN6v6ru/interpreting-gpt-the-logit-lens'],
      'tuned-lens': ['Belrose et al.', 2023, 'https://arxiv.org/abs/2303.08112'],
      transformerlens: ['Nanda & Bloom', 2022, 'https://github.com/TransformerLensOrg/TransformerLens'],
      'lm-transparency-tool': ['Tufanov et al.', 2024, 'https://arxiv.org/abs/2404.07004'],
      'attention-rollout': ['Abnar & Zuidema', 2020, 'https://doi.org/10.18653/v1/2020.acl-main.385'],
      'grad-cam': ['Selvaraju et al.', 2017, 'https://arxiv.org/abs/1610.02391'],
      glove: ['Pennington et al.', 2014, 'https://doi.org/10.3115/v1/D14-1162'],
      tinystories: ['Eldan & Li', 2023, 'https://arxiv.org/abs/2305.07759'],
      'mistral-7b': ['Jiang et al.', 2023, 'https://arxiv.org/abs/2310.06825'],
      'llama-2': ['Touvron et al.', 2023, 'https://arxiv.org/abs/2307.09288'],
      gemma: ['Gemma Team', 2024, 'https://arxiv.org/abs/2403.08295'],
      rope: ['Su et al.', 2021, 'https://arxiv.org/abs/2104.09864'],
      scipy: ['Virtanen et al.', 2020, 'https://doi.org/10.1038/s41592-019-0686-2'],
    };
    for (const [key, [names, year, url]] of Object.entries(expected)) {
      const e = bibEntry(key);
      expect([citeNames(e), e.year, entryUrl(e)], key).toEqual([names, year, url]);
    }
  });

  it('tells apart two works with the same label and year', () => {
    expect([citeNames(bibEntry('word2vec')), citeYear(bibEntry('word2vec'))]).toEqual(['Mikolov et al.', '2013a']);
    expect(citeYear(bibEntry('word2vec-regularities'))).toBe('2013b');
    expect(citeYear(bibEntry('glove'))).toBe('2014');
  });

  it('writes reference-list authors with initials', () => {
    expect(referenceAuthors(bibEntry('attention-rollout'))).toBe('Abnar, S. & Zuidema, W.');
    expect(referenceAuthors(bibEntry('glove'))).toBe('Pennington, J., Socher, R., & Manning, C. D.');
    expect(referenceAuthors(bibEntry('scipy'))).toBe('Virtanen, P., Gommers, R., Oliphant, T. E., et al.');
    expect(referenceAuthors(bibEntry('word2vec-regularities'))).toBe('Mikolov, T., Yih, W.-t., & Zweig, G.');
    expect(referenceAuthors(bibEntry('gemma'))).toBe('Gemma Team');
  });

  it('sorts by first author, then year', () => {
    const sorted = sortEntries(['tuned-lens', 'word2vec-regularities', 'attention-rollout', 'word2vec', 'gemma'].map(bibEntry)).map((e) => e.key);
    expect(sorted).toEqual(['attention-rollout', 'tuned-lens', 'gemma', 'word2vec', 'word2vec-regularities']);
  });

  it('names the known keys when a key is unknown', () => {
    expect(() => bibEntry('tuned-lenz')).toThrow(/unknown citation key "tuned-lenz": expected one of .*tuned-lens/);
    expect(splitKeys(' glove ,word2vec,')).toEqual(['glove', 'word2vec']);
    expect(refId('glove')).toBe('ref-glove');
  });
});

// A minimal MDX tree: what remark-mdx produces for <Cite key="…" /> and <Bibliography />.
const cite = (key: unknown, line = 3): Node => ({ type: 'mdxJsxTextElement', name: 'Cite', attributes: [{ type: 'mdxJsxAttribute', name: 'key', value: key }], children: [], position: { start: { line, column: 5 } } });
const bibliography = (attributes: NonNullable<Node['attributes']> = []): Node => ({ type: 'mdxJsxFlowElement', name: 'Bibliography', attributes, children: [] });
const paragraph = (...children: Node[]): Node => ({ type: 'paragraph', children: [{ type: 'text', value: 'x' }, ...children] });

describe('remarkCitations', () => {
  it('collects cited keys in order of first use', () => {
    const tree = { type: 'root', children: [paragraph(cite('tuned-lens'), cite('glove, word2vec')), paragraph(cite('tuned-lens'))] };
    expect(citedKeys(tree)).toEqual(['tuned-lens', 'glove', 'word2vec']);
  });

  it('fills <Bibliography /> with them, and leaves one with explicit keys alone', () => {
    const b = bibliography();
    const explicit = bibliography([{ type: 'mdxJsxAttribute', name: 'keys', value: { type: 'mdxJsxAttributeValueExpression', value: '["gemma"]' } }]);
    const tree = { type: 'root', children: [paragraph(cite('tuned-lens'), cite('glove')), b, explicit] };
    remarkCitations()(tree, { path: 'content/a.mdx' });
    expect(b.attributes).toEqual([{ type: 'mdxJsxAttribute', name: 'cited', value: 'tuned-lens,glove' }]);
    expect(explicit.attributes).toHaveLength(1);
  });

  it('fails the build on an unknown key, naming file, line and the known keys', () => {
    const tree = { type: 'root', children: [paragraph(cite('tuned-lenz', 7)), bibliography()] };
    expect(() => remarkCitations()(tree, { path: 'content/a.mdx' })).toThrow(/^content\/a\.mdx:7:5: <Cite key="tuned-lenz">: unknown citation key; known keys: .*tuned-lens/);
  });

  it('fails the build when an article cites without a <Bibliography />', () => {
    const tree = { type: 'root', children: [paragraph(cite('glove'))] };
    expect(() => remarkCitations()(tree, { path: 'content/a.mdx' })).toThrow(/cites glove but has no <Bibliography \/>/);
    expect(() => remarkCitations()({ type: 'root', children: [paragraph()] }, {})).not.toThrow();
  });

  it('skips a key given as an expression (checked when the component renders)', () => {
    const tree = { type: 'root', children: [paragraph(cite({ type: 'mdxJsxAttributeValueExpression', value: 'k' })), bibliography()] };
    expect(citedKeys(tree)).toEqual([]);
  });
});
