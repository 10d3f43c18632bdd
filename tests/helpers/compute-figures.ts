/**
 * Computes a few figures from scratch (fresh cache folder from $LENSPRESS_FIGURE_CACHE) and
 * prints their data as JSON: run twice in separate processes by tests/unit/determinism.test.ts.
 */
import { precomputeKind } from '../../src/node/precompute.ts';

const figures: [string, Record<string, unknown> & { prompt: string }][] = [
  ['logit-lens', { prompt: 'Tom had a red ball.', norm: 'model', k: 5, state: 'block', decoder: 'output', secondary: 'iterative', color: 'prob', generate: 4, temperature: 0.8, topK: 0, topP: 0.9, seed: 3 }],
  ['flow', { prompt: 'Lily saw a big dog.', row: -1, position: -1, generated: 0, layers: 0, links: 'top-k', topK: 1, minWeight: 0.1, hideBos: false, shadeBy: 'layer', minLinkWidth: 1, maxLinkWidth: 28 }],
  ['gradient', { prompt: 'Lily saw a big dog.', position: -1, token: '', states: 'all', scale: 'log' }],
];
const out: unknown[] = [];
for (const [kind, props] of figures) out.push(await precomputeKind(kind, 'stories260K', props));
process.stdout.write(JSON.stringify(out));
