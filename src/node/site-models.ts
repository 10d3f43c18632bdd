/**
 * The model files the site serves to readers' browsers: copied at build time from the model
 * store into public/generated/models/<name>/ (never committed), and described to the page.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KNOWN_MODELS } from '../core/model/registry.ts';
import type { ModelAsset } from '../browser/protocol.ts';
import { LenspressError } from '../core/errors.ts';
import { locateModelFile } from './model-store.ts';
import { PROJECT_ROOT } from './project-root.ts';

export const GENERATED_DIR = path.join(PROJECT_ROOT, 'public', 'generated');

export function modelAsset(name: string, base = '/'): ModelAsset {
  const m = KNOWN_MODELS[name];
  if (!m) throw new LenspressError('unknown-model', `unknown model "${name}" for a live figure: expected one of ${Object.keys(KNOWN_MODELS).join(', ')}`);
  const dir = `${base.replace(/\/?$/, '/')}generated/models/${name}/`;
  return {
    name,
    weightsUrl: dir + m.files.weights.name,
    tokenizerUrl: dir + m.files.tokenizer.name,
    tokenizerName: m.files.tokenizer.name,
    sha256: m.files.weights.sha256,
    bytes: m.files.weights.bytes,
  };
}

/** Copies a known model's files (checksums verified) to where the site serves them. */
export async function publishModel(name: string): Promise<string[]> {
  const m = KNOWN_MODELS[name];
  const out: string[] = [];
  for (const file of [m.files.weights, m.files.tokenizer]) {
    const located = await locateModelFile(m, file);
    const dest = path.join(GENERATED_DIR, 'models', name, file.name);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, located.bytes);
    out.push(dest);
  }
  return out;
}
