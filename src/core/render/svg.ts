/**
 * The DOM is a parameter (as in Observable Plot): renderers take a `document`, so the same
 * code draws the figure at build time (linkedom in Node) and live in the page.
 */
export const SVG_NS = 'http://www.w3.org/2000/svg';

export interface RenderContext {
  document: Document;
}

export function svgEl<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const el = doc.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  // textContent, never innerHTML: token strings come from models, URLs and files.
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Shortens a label to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

export const pct = (p: number): string => `${(p * 100).toFixed(p >= 0.995 || p < 0.0005 ? 0 : 1)}%`;
