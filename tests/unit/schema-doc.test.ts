/** Props tables generated from zod schemas: types, values, defaults, required, descriptions. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BibliographyProps, CiteProps, ValueProps } from '../../src/site/article-props.ts';
import { FIGURE_COMPONENTS } from '../../src/site/figure-components.ts';
import { ArticleFrontmatter } from '../../src/site/frontmatter.ts';
import { describeField, describeSchema, formatDefault, objectShape } from '../../src/site/schema-doc.ts';

describe('describeSchema', () => {
  const schema = z
    .object({
      prompt: z.string().trim().min(1).describe('The prompt.'),
      norm: z.enum(['none', 'norm', 'model']).default('model').describe('How to normalise.'),
      k: z.number().int().min(1).max(20).default(5),
      position: z.number().int().min(-512).max(511).default(-1),
      share: z.number().min(0).max(1).default(0.1),
      positive: z.number().int().positive().optional(),
      head: z.union([z.literal('average'), z.number().int().min(0)]).default('average'),
      tags: z.array(z.string()).describe('Tags.'),
      flag: z.boolean().default(false),
      token: z.string().default(''),
      checked: z.string().refine((s) => s.length < 5).describe('Described outside the refinement.'),
      id: z.string().regex(/^[a-z]+$/).optional(),
      when: z.coerce.date(),
    })
    .strict()
    .refine(() => true);

  const rows = Object.fromEntries(describeSchema(schema).map((r) => [r.name, r]));

  it('lists every field in declaration order, through an object-level refine', () => {
    expect(Object.keys(rows)).toEqual(Object.keys(objectShape(schema)));
    expect(Object.keys(rows)).toEqual(['prompt', 'norm', 'k', 'position', 'share', 'positive', 'head', 'tags', 'flag', 'token', 'checked', 'id', 'when']);
  });

  it('reads types, values, defaults and required-ness', () => {
    expect(rows.prompt).toEqual({ name: 'prompt', type: 'string (non-empty)', hasDefault: false, required: true, description: 'The prompt.' });
    expect(rows.norm).toMatchObject({ type: 'one of', values: ['none', 'norm', 'model'], hasDefault: true, default: 'model', required: false, description: 'How to normalise.' });
    expect(rows.k).toMatchObject({ type: 'integer 1\u201320', default: 5 });
    expect(rows.position).toMatchObject({ type: 'integer \u2212512\u2013511', default: -1 });
    expect(rows.share.type).toBe('number 0\u20131');
    expect(rows.positive).toMatchObject({ type: 'integer \u2265 1', required: false, hasDefault: false });
    expect(rows.head).toMatchObject({ type: 'one of | integer \u2265 0', default: 'average' });
    expect(rows.tags).toMatchObject({ type: 'string[]', required: true });
    expect(rows.flag).toMatchObject({ type: 'boolean', default: false });
    expect(rows.token).toMatchObject({ type: 'string', hasDefault: true, default: '' });
    expect(rows.checked).toMatchObject({ type: 'string', description: 'Described outside the refinement.' });
    expect(rows.id.type).toBe('string (matching /^[a-z]+$/)');
    expect(rows.when.type).toBe('date');
  });

  it('prints defaults as authors write them', () => {
    expect([formatDefault('model'), formatDefault(''), formatDefault(5), formatDefault(false), formatDefault(new Date('2026-01-02'))]).toEqual(['model', '""', '5', 'false', '2026-01-02']);
  });

  it('refuses a schema that is not an object', () => {
    expect(() => describeSchema(z.string())).toThrow(/expected a zod object schema/);
    expect(describeField('x', z.string().optional()).required).toBe(false);
  });
});

describe('the documented schemas', () => {
  const schemas: [string, z.ZodTypeAny][] = [
    ...Object.entries(FIGURE_COMPONENTS).map(([name, c]) => [name, c.schema] as [string, z.ZodTypeAny]),
    ['Value', ValueProps],
    ['Cite', CiteProps],
    ['Bibliography', BibliographyProps],
    ['frontmatter', ArticleFrontmatter],
  ];

  // The about page prints these descriptions as the documentation: a field without one is
  // undocumented. (Doc comments are invisible at run time: use .describe().)
  it.each(schemas)('every field of %s has a description', (_name, schema) => {
    const missing = describeSchema(schema)
      .filter((r) => !r.description)
      .map((r) => r.name);
    expect(missing).toEqual([]);
  });
});
