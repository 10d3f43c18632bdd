/**
 * What every live figure offers: export (SVG, PNG, JSON, CSV) and shareable state in the
 * URL. State lives in query parameters namespaced by the figure's id (`lp.<id>.<key>`), so
 * several figures on one page keep their own prompt and options in one link.
 */

export function download(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A standalone copy of a figure's SVG: colours that come from the page (currentColor, CSS
 * variables) are resolved to the colours in use now, so the file looks the same elsewhere.
 */
export function standaloneSvg(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const style = getComputedStyle(svg);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('color', style.color);
  copy.setAttribute('style', `background:${getComputedStyle(document.body).backgroundColor};color:${style.color};fill:currentColor`);
  return new XMLSerializer().serializeToString(copy);
}

export async function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil(height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode a PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

const PREFIX = 'lp.';

/** This figure's state from the page URL, e.g. {prompt: "…", norm: "none"}. */
export function readUrlState(figureId: string, url = new URL(location.href)): Record<string, string> {
  const out: Record<string, string> = {};
  const p = `${PREFIX}${figureId}.`;
  for (const [k, v] of url.searchParams) if (k.startsWith(p)) out[k.slice(p.length)] = v;
  return out;
}

/** The page URL with this figure's state set (other figures' state kept). */
export function urlWithState(figureId: string, state: Record<string, string>, url = new URL(location.href)): URL {
  const next = new URL(url);
  const p = `${PREFIX}${figureId}.`;
  for (const k of [...next.searchParams.keys()]) if (k.startsWith(p)) next.searchParams.delete(k);
  for (const [k, v] of Object.entries(state)) next.searchParams.set(p + k, v);
  next.hash = figureId;
  return next;
}
