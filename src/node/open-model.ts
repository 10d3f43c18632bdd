/**
 * `--model` in Node: a known model name (see core/model/registry.ts), a path to a llama2.c
 * `.bin` with its tokenizer beside it, a `.gguf` file, or a Hugging Face folder (config.json,
 * safetensors, tokenizer.json). Provenance sha256: the .bin, the .gguf, model.safetensors, or
 * the first shard of a sharded folder (see core/model/open-formats.ts for why).
 * .gguf and .safetensors files are read through a FileHandle (./file-source.ts), tensor by
 * tensor, so files over Node's 2 GiB readFile limit load; the handles are closed once the
 * model is in memory and its provenance hashed.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LenspressError } from '../core/errors.ts';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../core/engine/runtime.ts';
import { parameterCount } from '../core/model/config.ts';
import { type ModelProvenance, type OpenedModel, openLlama2c } from '../core/model/open.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { type OpenedCheckpoint, type OpenOptions, openGgufSource, openHfFolder, tokenizerFromFile } from '../core/model/open-formats.ts';
import { KNOWN_MODELS } from '../core/model/registry.ts';
import { looksLikeHubId } from '../core/hub/hub-id.ts';
import { hubSource, stderrProgress } from './hub.ts';
import { openFileSource, sha256Source } from './file-source.ts';
import { checkFitsMachine } from './memory-gate.ts';
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
  return (await readFileOrNull(p))!;
}

/** null when absent; files read whole (llama2.c, tokenizers, JSON) past Node's 2 GiB readFile limit are refused with a message. */
async function readFileOrNull(p: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(p));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ERR_FS_FILE_TOO_LARGE' || code === 'ERR_STRING_TOO_LONG') throw new LenspressError('file-too-large', `${p}: larger than the 2 GiB a file read whole can be (GGUF and safetensors files of any size are read tensor by tensor; this one is not)`);
    throw e;
  }
}

/** --tokenizer for a GGUF or a folder: read lazily, once the model's vocabulary size is known. */
function tokenizerOverride(tokPath: string | undefined): OpenOptions {
  if (!tokPath) return {};
  return {
    tokenizer: async (dVocab) => {
      const cfg = tokPath.endsWith('.json') ? await readFileOrNull(path.join(path.dirname(tokPath), 'tokenizer_config.json')) : null;
      return tokenizerFromFile(tokPath, await readOrExplain(tokPath, 'tokenizer file'), dVocab, cfg);
    },
  };
}

const checkpointProvenance = async (name: string, c: OpenedCheckpoint): Promise<Omit<ModelProvenance, 'parameters'>> => ({ name, sha256: await sha256Source(c.provenanceFile.source), format: c.format });

export async function openModel(spec: string, opts: StoreOptions & { tokenizerPath?: string; token?: string; quiet?: boolean } = {}): Promise<NodeModel> {
  const sources: ByteSource[] = [];
  /** Every source opened is closed when openModel returns or fails. */
  const track = <S extends ByteSource | null>(s: S): S => (s && sources.push(s), s);
  try {
    return await openModelFrom(spec, opts, track);
  } finally {
    await Promise.all(sources.map((s) => s.close?.()));
  }
}

async function openModelFrom(spec: string, opts: StoreOptions & { tokenizerPath?: string; token?: string; quiet?: boolean }, track: <S extends ByteSource | null>(s: S) => S): Promise<NodeModel> {
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
  } else if (spec.endsWith('.gguf')) {
    const source = track(await openFileSource(spec));
    if (!source) throw new LenspressError('missing-file', `GGUF file not found: ${spec}`);
    checkFitsMachine(spec, source.size);
    const c = await openGgufSource(source, spec, tokenizerOverride(opts.tokenizerPath));
    opened = c;
    provenance = await checkpointProvenance(path.basename(spec, '.gguf'), c);
  } else if (existsSync(spec) && statSync(spec).isDirectory()) {
    checkFitsMachine(spec);
    const c = await openHfFolder({ name: spec, read: (f) => readFileOrNull(path.join(spec, f)), open: async (f) => track(await openFileSource(path.join(spec, f))) }, tokenizerOverride(opts.tokenizerPath));
    opened = c;
    provenance = await checkpointProvenance(path.basename(path.resolve(spec)), c);
  } else if (looksLikeHubId(spec)) {
    // A hub id: files are fetched (and cached) as the loader reads them.
    const src = await hubSource(spec, { token: opts.token, onProgress: opts.quiet ? undefined : stderrProgress() });
    const open = async (f: string) => track(await src.open(f));
    const c = src.id.file ? await openGgufSource((await open(src.id.file))!, src.id.file, tokenizerOverride(opts.tokenizerPath)) : await openHfFolder({ name: spec, read: src.read, open }, tokenizerOverride(opts.tokenizerPath));
    opened = c;
    provenance = await checkpointProvenance(spec, c);
  } else {
    throw new LenspressError('unknown-model', `unknown model "${spec}": expected a known model name (${Object.keys(KNOWN_MODELS).join(', ')}), a Hugging Face model folder, a .gguf file, a llama2.c .bin file, or a hub id (org/name, org/name@revision, org/name:file.gguf)`);
  }
  const hooked = new HookedModel(opened.model, nodeBackend());
  return { ...opened, hooked, provenance: { ...provenance, parameters: parameterCount(opened.model.config) } };
}
