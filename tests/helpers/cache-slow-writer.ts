/** A figure whose computation takes long enough to be killed in the middle (figure-cache.test.ts). */
import { cachedFigure } from '../../src/node/figure-cache.ts';

await cachedFigure({ kind: 'killed', codeVersion: '1', modelSha256: 'aa', props: {} }, async () => {
  process.stdout.write('computing\n');
  await new Promise((r) => setTimeout(r, 30_000));
  return { done: true };
}, { dir: process.argv[2] });
