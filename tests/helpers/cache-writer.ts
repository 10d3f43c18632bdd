/** Writes one figure through the figure cache (tests/unit/figure-cache.test.ts runs several at once). */
import { cachedFigure } from '../../src/node/figure-cache.ts';

const dir = process.argv[2];
const data = await cachedFigure({ kind: 'race', codeVersion: '1', modelSha256: 'aa', props: { p: 1 } }, async () => {
  await new Promise((r) => setTimeout(r, 50));
  return { payload: 'x'.repeat(2_000_000), pid: process.pid };
}, { dir });
process.stdout.write(String(data.payload.length));
