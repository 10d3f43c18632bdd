import type { Provenance } from '../figures/provenance.ts';

/** One line naming model, checksum, settings, code version and where it ran. */
export function provenanceText(p: Provenance): string {
  const settings = Object.entries(p.settings).map(([k, v]) => `${k}=${v}`).join(', ');
  return `Model ${p.model.name} (${p.model.parameters.toLocaleString('en-US')} parameters, sha256 ${p.model.sha256.slice(0, 12)}…) · ${settings} · code ${p.codeVersion} · computed with ${p.backend}`;
}
