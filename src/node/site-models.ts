/**
 * The model the site's figures use, and the files it serves to readers' browsers.
 * The figure model is $LENSPRESS_FIGURE_MODEL (set by `lenspress figures --model …`) or the
 * default model. At build time its files are copied from wherever they are (the model store,
 * a local folder or file, the hub's cache) into public/generated/models/<slug>/ (never
 * committed), beside an asset.json manifest that the figure components read, so the page can
 * download and verify exactly the files the build used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelAsset } from '../browser/protocol.ts';
import { LenspressError } from '../core/errors.ts';
import { looksLikeHubId } from '../core/hub/hub-id.ts';
import type { AssetFile, AssetFormat } from '../core/model/open-asset.ts';
import { DEFAULT_MODEL, KNOWN_MODELS } from '../core/model/registry.ts';
import { hubSource } from './hub.ts';
import { locateModelFile } from './model-store.ts';
import { PROJECT_ROOT } from './project-root.ts';

export const GENERATED_DIR = path.join(PROJECT_ROOT, 'public', 'generated');

export function figureModelSpec(): string {
  return process.env.LENSPRESS_FIGURE_MODEL || DEFAULT_MODEL;
}

/** A folder name for a model spec: "stories260K", "mistralai--Mistral-7B-v0.1", "my-model". */
export function modelSlug(spec: string): string {
  const base = KNOWN_MODELS[spec] || looksLikeHubId(spec) ? spec : path.basename(path.resolve(spec)).replace(/\.(gguf|bin)$/, '');
  return base.replace(/[^\w.-]+/g, '--').replace(/^[.-]+/, '') || 'model';
}

interface CollectedFile {
  name: string;
  bytes: Uint8Array;
  role?: AssetFile['role'];
}

const HF_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model'];

/** The files of a model spec, read from wherever they are. */
async function collect(spec: string): Promise<{ format: AssetFormat; formatLabel: string; files: CollectedFile[] }> {
  const known = KNOWN_MODELS[spec];
  if (known) {
    const w = await locateModelFile(known, known.files.weights);
    const t = await locateModelFile(known, known.files.tokenizer);
    return { format: 'llama2c', formatLabel: 'llama2.c .bin', files: [{ name: known.files.weights.name, bytes: w.bytes, role: 'weights' }, { name: known.files.tokenizer.name, bytes: t.bytes, role: 'tokenizer' }] };
  }
  const read = async (p: string) => new Uint8Array(await readFile(p));
  if (existsSync(spec) && statSync(spec).isFile()) {
    if (spec.endsWith('.gguf')) return { format: 'gguf', formatLabel: 'GGUF', files: [{ name: path.basename(spec), bytes: await read(spec), role: 'weights' }] };
    if (spec.endsWith('.bin')) {
      const dir = path.dirname(spec);
      const tok = ['tokenizer.model', 'tok512.model', 'tokenizer.bin', 'tok512.bin'].find((n) => existsSync(path.join(dir, n)));
      if (!tok) throw new LenspressError('missing-file', `no tokenizer beside ${spec}`);
      return { format: 'llama2c', formatLabel: 'llama2.c .bin', files: [{ name: path.basename(spec), bytes: await read(spec), role: 'weights' }, { name: tok, bytes: await read(path.join(dir, tok)), role: 'tokenizer' }] };
    }
  }
  let readFileOf: (f: string) => Promise<Uint8Array | null>;
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    readFileOf = async (f) => (existsSync(path.join(spec, f)) ? read(path.join(spec, f)) : null);
  } else if (looksLikeHubId(spec)) {
    const src = await hubSource(spec);
    if (src.id.file) return { format: 'gguf', formatLabel: 'GGUF', files: [{ name: src.id.file, bytes: (await src.read(src.id.file))!, role: 'weights' }] };
    readFileOf = src.read;
  } else {
    throw new LenspressError('unknown-model', `unknown figure model "${spec}": expected a known model name (${Object.keys(KNOWN_MODELS).join(', ')}), a Hugging Face folder, a .gguf or .bin file, or a hub id (org/name)`);
  }
  const files: CollectedFile[] = [];
  for (const name of HF_FILES) {
    const bytes = await readFileOf(name);
    if (bytes) files.push({ name, bytes });
  }
  const single = await readFileOf('model.safetensors');
  if (single) files.push({ name: 'model.safetensors', bytes: single, role: 'weights' });
  else {
    const index = await readFileOf('model.safetensors.index.json');
    if (!index) throw new LenspressError('missing-file', `${spec}: no model.safetensors or model.safetensors.index.json`);
    files.push({ name: 'model.safetensors.index.json', bytes: index });
    const shards = [...new Set(Object.values((JSON.parse(new TextDecoder().decode(index)) as { weight_map: Record<string, string> }).weight_map))].sort();
    for (const [i, s] of shards.entries()) {
      const bytes = await readFileOf(s);
      if (!bytes) throw new LenspressError('missing-file', `${spec}: the index names ${s}, which is missing`);
      files.push({ name: s, bytes, role: i === 0 ? 'weights' : undefined });
    }
  }
  return { format: 'hf', formatLabel: 'Hugging Face safetensors', files };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Copies the model's files to public/generated/models/<slug>/ and writes its manifest. */
export async function publishModel(spec: string): Promise<ModelAsset> {
  const slug = modelSlug(spec);
  const dir = path.join(GENERATED_DIR, 'models', slug);
  const { format, formatLabel, files } = await collect(spec);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const manifest: AssetFile[] = [];
  for (const f of files) {
    await writeFile(path.join(dir, f.name), f.bytes);
    manifest.push({ name: f.name, url: `generated/models/${slug}/${f.name}`, bytes: f.bytes.byteLength, sha256: sha(f.bytes), ...(f.role ? { role: f.role } : {}) });
  }
  const weights = manifest.find((f) => f.role === 'weights')!;
  const asset: ModelAsset = { name: KNOWN_MODELS[spec] ? spec : slug, format, formatLabel, files: manifest, sha256: weights.sha256!, bytes: manifest.reduce((s, f) => s + f.bytes, 0) };
  // The site publishes this file: a local folder or file is named by its base name, never by the
  // author's absolute path (which would leak, and make the build depend on where the model lies).
  const published = KNOWN_MODELS[spec] || looksLikeHubId(spec) ? spec : path.basename(path.resolve(spec));
  await writeFile(path.join(dir, 'asset.json'), JSON.stringify({ spec: published, ...asset }, null, 2));
  return asset;
}

/** The published asset of a model spec, with URLs under the site's base path. */
export function modelAsset(spec: string, base = '/'): ModelAsset {
  const file = path.join(GENERATED_DIR, 'models', modelSlug(spec), 'asset.json');
  if (!existsSync(file)) throw new LenspressError('model-not-published', `the figure model "${spec}" has not been published for the site: run \`npm run build\` (it runs scripts/prepare-site.mjs first)`);
  const asset = JSON.parse(readFileSync(file, 'utf8')) as ModelAsset & { spec: string };
  const prefix = base.replace(/\/?$/, '/');
  return { name: asset.name, format: asset.format, formatLabel: asset.formatLabel, sha256: asset.sha256, bytes: asset.bytes, files: asset.files.map((f) => ({ ...f, url: prefix + f.url })) };
}
