/**
 * `--model` in Node: a known model name (see core/model/registry.ts) or a path to a
 * llama2.c `.bin` with its tokenizer beside it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LenspressError } from '../core/errors.ts';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../core/engine/runtime.ts';
import { parameterCount } from '../core/model/config.ts';
import { type ModelProvenance, type OpenedModel, openLlama2c } from '../core/model/open.ts';
import { KNOWN_MODELS } from '../core/model/registry.ts';
import { locateModelFile, sha256, type StoreOptions } from './model-store.ts';

export interface NodeModel extends OpenedModel {
  hooked: HookedModel;
  provenance: ModelProvenance;
}

export function nodeBackend(): Backend {
  return { ort: ort as unknown as OrtModule, executionProviders: ['cpu'], label: 'onnxruntime-node (cpu)' };
}

const TOKENIZER_NAMES = ['tokenizer.model', 'tok512.model', 'tokenizer.bin', 'tok512.bin'];

async function readOrExplain(p: string, what: string): Promise<Uint8Array> {
  if (!existsSync(p)) throw new LenspressError('missing-file', `${what} not found: ${p}`);
  return new Uint8Array(await readFile(p));
}

export async function openModel(spec: string, opts: StoreOptions & { tokenizerPath?: string } = {}): Promise<NodeModel> {
  const known = KNOWN_MODELS[spec];
  let opened: OpenedModel, provenance: Omit<ModelProvenance, 'parameters'>;
  if (known) {
    const w = await locateModelFile(known, known.files.weights, opts);
    const t = await locateModelFile(known, known.files.tokenizer, opts);
    opened = await openLlama2c(w.bytes, { bytes: t.bytes, name: known.files.tokenizer.name }, w.path);
    provenance = { name: known.name, sha256: w.sha256, format: 'llama2.c .bin' };
  } else if (spec.endsWith('.bin')) {
    const weights = await readOrExplain(spec, 'model file');
    const dir = path.dirname(spec);
    const tokPath = opts.tokenizerPath ?? TOKENIZER_NAMES.map((n) => path.join(dir, n)).find((p) => existsSync(p));
    if (!tokPath) throw new LenspressError('missing-file', `no tokenizer beside ${spec}: expected one of ${TOKENIZER_NAMES.join(', ')} in ${dir}, or pass --tokenizer`);
    const tokBytes = await readOrExplain(tokPath, 'tokenizer file');
    opened = await openLlama2c(weights, { bytes: tokBytes, name: tokPath }, spec);
    provenance = { name: path.basename(spec, '.bin'), sha256: sha256(weights), format: 'llama2.c .bin' };
  } else {
    throw new LenspressError('unknown-model', `unknown model "${spec}": expected a known model name (${Object.keys(KNOWN_MODELS).join(', ')}) or a path to a llama2.c .bin file`);
  }
  const hooked = new HookedModel(opened.model, nodeBackend());
  return { ...opened, hooked, provenance: { ...provenance, parameters: parameterCount(opened.model.config) } };
}
