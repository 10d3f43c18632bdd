/** Server-side rendering of figure renderers: linkedom supplies the `document`. */
import { parseHTML } from 'linkedom';

export function staticDocument(): Document {
  return parseHTML('<!doctype html><html><body></body></html>').document as unknown as Document;
}

/** JSON safe to place inside <script type="application/json">: no "</script>" breakout. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
