/**
 * Page weight before interaction, read statically from the built site (dist/): the HTML, the
 * stylesheets it links (and their @imports), and the JavaScript that loads without pressing
 * Run — <script src>, <link rel=modulepreload>, and every module those import *statically*
 * (`import … from "x"`, `import "x"`, `export … from "x"`), followed transitively. Dynamic
 * `import("x")` and `new Worker(new URL("x", import.meta.url))` load only on Run and are not
 * counted. Inline scripts and styles are part of the HTML's bytes. Fonts and images that CSS
 * references are not counted (browsers fetch a font only when text uses it).
 * gzip sizes are zlib's default level (6), what static servers commonly send.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export type AssetKind = 'html' | 'css' | 'js';

export interface AssetSize {
  /** URL path on the site, e.g. /_astro/x.js. */
  url: string;
  kind: AssetKind;
  bytes: number;
  gzip: number;
}

export interface Sizes {
  bytes: number;
  gzip: number;
}

export interface PageWeight {
  page: string;
  assets: AssetSize[];
  /** Referenced files that are not in dist/ (or are on another origin): not counted. */
  missing: string[];
  total: Sizes;
  byKind: Record<AssetKind, Sizes>;
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag)?.slice(2).find((v) => v !== undefined);

/** What an HTML document loads by itself: stylesheets and scripts (src) and module preloads. */
export function htmlReferences(html: string): { css: string[]; js: string[] } {
  const css: string[] = [], js: string[] = [];
  const withoutComments = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of withoutComments.matchAll(/<link\b[^>]*>/gi)) {
    const rel = (attr(m[0], 'rel') ?? '').toLowerCase().split(/\s+/);
    const href = attr(m[0], 'href');
    if (!href) continue;
    if (rel.includes('stylesheet')) css.push(href);
    else if (rel.includes('modulepreload')) js.push(href);
  }
  for (const m of withoutComments.matchAll(/<script\b[^>]*>/gi)) {
    const src = attr(m[0], 'src');
    if (src) js.push(src);
  }
  return { css, js };
}

/** Specifiers a JS module imports statically (not `import(…)`, not URLs built at run time). */
export function staticImports(js: string): string[] {
  const out: string[] = [];
  // `import x from "y"`, `import {a as b} from"y"`, `import * as n from 'y'`, `export {a} from "y"`, `export * from "y"`
  const from = /(?:^|[^\w$.])(?:import|export)\s*(?:[\w$]+\s*,?\s*)?(?:\*\s*(?:as\s+[\w$]+\s*)?|\{[^}]*\}\s*)?from\s*(["'])([^"']+)\1/g;
  for (const m of js.matchAll(from)) out.push(m[2]);
  // side-effect imports: `import "y"` (not `import(` and not `import.meta`)
  for (const m of js.matchAll(/(?:^|[^\w$.])import\s*(["'])([^"']+)\1/g)) out.push(m[2]);
  return out;
}

export function cssImports(css: string): string[] {
  return [...css.matchAll(/@import\s+(?:url\(\s*)?(["']?)([^"')\s;]+)\1/g)].map((m) => m[2]);
}

export const sizesOf = (bytes: Uint8Array): Sizes => ({ bytes: bytes.length, gzip: gzipSync(bytes).length });

/**
 * Weight of the page at `pageUrl` (a site path such as /articles/x/, or x/index.html)
 * served from `distDir`.
 */
export function pageWeight(distDir: string, pageUrl: string): PageWeight {
  const base = new URL(pageUrl.startsWith('/') ? pageUrl : `/${pageUrl}`, 'http://site.invalid');
  const fileOf = (u: URL) => path.join(distDir, decodeURIComponent(u.pathname.endsWith('/') ? `${u.pathname}index.html` : u.pathname));
  const assets: AssetSize[] = [], missing: string[] = [];
  const seen = new Set<string>();
  const visit = (ref: string, from: URL, kind: AssetKind): void => {
    const u = new URL(ref, from);
    u.search = u.hash = '';
    if (u.origin !== base.origin) return void missing.push(ref);
    if (seen.has(u.pathname)) return;
    seen.add(u.pathname);
    const file = fileOf(u);
    if (!existsSync(file)) return void missing.push(u.pathname);
    const bytes = new Uint8Array(readFileSync(file));
    assets.push({ url: u.pathname, kind, ...sizesOf(bytes) });
    const text = new TextDecoder().decode(bytes);
    if (kind === 'html') {
      const refs = htmlReferences(text);
      refs.css.forEach((r) => visit(r, u, 'css'));
      refs.js.forEach((r) => visit(r, u, 'js'));
    } else if (kind === 'css') cssImports(text).forEach((r) => visit(r, u, 'css'));
    else staticImports(text).forEach((r) => (/^[./]/.test(r) || /^https?:/.test(r) ? visit(r, u, 'js') : missing.push(r)));
  };
  visit(base.pathname, base, 'html');
  const sum = (xs: AssetSize[]): Sizes => xs.reduce((s, a) => ({ bytes: s.bytes + a.bytes, gzip: s.gzip + a.gzip }), { bytes: 0, gzip: 0 });
  const byKind = { html: sum(assets.filter((a) => a.kind === 'html')), css: sum(assets.filter((a) => a.kind === 'css')), js: sum(assets.filter((a) => a.kind === 'js')) };
  return { page: base.pathname, assets, missing, total: sum(assets), byKind };
}

/** The article the benchmarks use: the e2e tests' article when built, else the first one. */
export function defaultArticle(distDir: string): string {
  const preferred = '/articles/reading-a-tiny-model/';
  if (existsSync(path.join(distDir, preferred, 'index.html'))) return preferred;
  const dir = path.join(distDir, 'articles');
  const first = existsSync(dir) ? readdirSync(dir).sort().find((d) => existsSync(path.join(dir, d, 'index.html'))) : undefined;
  if (!first) throw new Error(`no article in ${dir}: run \`npm run build\` first`);
  return `/articles/${first}/`;
}
