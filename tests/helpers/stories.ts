/** Test access to the real stories260K files (read in place, never copied into the repo). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultStoreDir } from '../../src/node/model-store.ts';

export function storiesPath(file: string): string {
  const store = defaultStoreDir();
  if (!store) throw new Error('stories260K not found: set LENSPRESS_MODELS to the folder that holds stories260K/ (e.g. ../shared/models)');
  return path.join(store, 'stories260K', file);
}

export const readStories = (file: string): Uint8Array => new Uint8Array(readFileSync(storiesPath(file)));

/** Golden values from the model's README (llama2.c run.c, temperature 0). */
export const GOLDEN = {
  greedyFromBos: [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292],
  logitsAtBos: [-6.2229, 8.4043, -6.2237, -6.2225, -6.222],
  text: 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.',
};

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
