/**
 * A remark plugin for MDX articles: collects the keys of every <Cite key="…"> in the article,
 * in order of first use, and fills them into the article's <Bibliography /> (as its `cited`
 * prop), so the reference list is exactly the works cited — nothing to keep in sync by hand.
 * It fails the build, naming the file and line, when a key is unknown or when an article
 * cites but has no <Bibliography /> (its citation links would lead nowhere).
 *
 * Only string-valued `key` attributes are seen; <Cite key={expr}> is checked when it renders
 * (components/Cite.astro), and the site's link test catches a missing reference.
 */
import { BIBLIOGRAPHY, splitKeys } from './bibliography.ts';

/** The part of mdast / mdast-util-mdx-jsx this plugin reads. */
export interface Node {
  type: string;
  name?: string | null;
  value?: unknown;
  attributes?: Attribute[];
  children?: Node[];
  position?: { start: { line: number; column: number } };
}
interface Attribute {
  type: string;
  name?: string;
  value?: unknown;
}
interface VFileLike {
  path?: string;
  history?: string[];
}

const JSX = new Set(['mdxJsxFlowElement', 'mdxJsxTextElement']);

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const child of node.children ?? []) walk(child, visit);
}

function stringAttr(node: Node, name: string): string | undefined {
  const a = node.attributes?.find((x) => x.type === 'mdxJsxAttribute' && x.name === name);
  return typeof a?.value === 'string' ? a.value : undefined;
}

const hasAttr = (node: Node, name: string) => node.attributes?.some((x) => x.type === 'mdxJsxAttribute' && x.name === name) ?? false;

function where(file: VFileLike | undefined, node: Node): string {
  const path = file?.path ?? file?.history?.[0] ?? 'article';
  const pos = node.position?.start;
  return pos ? `${path}:${pos.line}:${pos.column}` : path;
}

/** The keys cited in a tree, in order of first use; throws on an unknown key. */
export function citedKeys(tree: Node, file?: VFileLike): string[] {
  const known = new Set(BIBLIOGRAPHY.map((e) => e.key));
  const keys: string[] = [];
  walk(tree, (n) => {
    if (!JSX.has(n.type) || n.name !== 'Cite') return;
    for (const key of splitKeys(stringAttr(n, 'key') ?? '')) {
      if (!known.has(key)) throw new Error(`${where(file, n)}: <Cite key="${key}">: unknown citation key; known keys: ${[...known].sort().join(', ')} (add new works to src/site/bibliography.ts)`);
      if (!keys.includes(key)) keys.push(key);
    }
  });
  return keys;
}

export function remarkCitations() {
  return (tree: Node, file: VFileLike) => {
    const keys = citedKeys(tree, file);
    const bibliographies: Node[] = [];
    walk(tree, (n) => {
      if (JSX.has(n.type) && n.name === 'Bibliography') bibliographies.push(n);
    });
    if (keys.length > 0 && bibliographies.length === 0) {
      throw new Error(`${where(file, tree)}: the article cites ${keys.join(', ')} but has no <Bibliography /> for the citations to link to; add one (import Bibliography from '../components/Bibliography.astro')`);
    }
    for (const b of bibliographies) {
      if (hasAttr(b, 'keys') || hasAttr(b, 'cited')) continue;
      (b.attributes ??= []).push({ type: 'mdxJsxAttribute', name: 'cited', value: keys.join(',') });
    }
  };
}
