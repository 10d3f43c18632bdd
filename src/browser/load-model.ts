/**
 * The Worker's side of a reader-picked model (ModelSource): hub files through the core
 * HubClient with Cache Storage (progress with speed and time left over all files; weights
 * stream into the cache in parts and entries are committed only after the size and sha256
 * check), or the reader's own files. Weights files (.gguf, .safetensors) open as ByteSources,
 * tensor by tensor — a Blob slice of the picked File, or a range of the cached parts — so a
 * file is never one buffer and files over 2 GiB (Mistral 7B) load as in Node. Terminating the
 * Worker aborts a download; nothing half-written is ever cached.
 */
import type { ByteSource } from '../core/formats/byte-source.ts';
import { sha256OfSource } from '../core/hub/sha256.ts';
import { parseHubId } from '../core/hub/hub-id.ts';
import type { OpenedModel } from '../core/model/open.ts';
import { openAssetFiles } from '../core/model/open-asset.ts';
import { type FileSource, openGgufSource, openHfFolder } from '../core/model/open-formats.ts';
import { blobSource } from './blob-source.ts';
import { pageHubClient } from './hub-page.ts';
import { planLocal } from './local-model.ts';
import type { ModelSource } from './protocol.ts';

export interface LoadedSource {
  model: OpenedModel;
  /** sha256 of the weights file, as provenance cites it. */
  sha256: string;
}

export interface SourceProgress {
  loaded: number;
  total: number;
  message: string;
}

const mb = (n: number) => (n / 1e6).toFixed(1);

export async function loadSource(src: ModelSource, onProgress: (p: SourceProgress) => void): Promise<LoadedSource> {
  return src.type === 'hub' ? loadHub(src, onProgress) : loadLocal(src, onProgress);
}

async function loadHub(src: Extract<ModelSource, { type: 'hub' }>, onProgress: (p: SourceProgress) => void): Promise<LoadedSource> {
  const id = parseHubId(src.spec);
  const started = Date.now();
  let done = 0;
  const client = pageHubClient(src.hubUrl, (p) => {
    const loaded = done + p.loaded;
    const speed = loaded / Math.max(1e-3, (Date.now() - started) / 1000);
    const left = speed > 0 ? Math.round((src.bytes - loaded) / speed) : undefined;
    onProgress({ loaded, total: src.bytes, message: `Downloading ${src.name} from the hub (${p.file}): ${mb(loaded)} of ${mb(src.bytes)} MB, ${mb(speed)} MB/s, ${left === undefined ? '?' : left} s left…` });
  });
  const byPath = new Map(src.files.map((f) => [f.path, f]));
  const reading = (file: string) => onProgress({ loaded: done, total: src.bytes, message: `Reading ${file} from the browser's cache…` });
  const files: FileSource = {
    name: src.name,
    async read(path) {
      const f = byPath.get(path);
      if (!f) return null;
      const bytes = await client.download(id, f);
      done += bytes.byteLength;
      return bytes;
    },
    async open(path) {
      const f = byPath.get(path);
      if (!f) return null;
      const source = await client.openFile(id, f);
      done += source.size;
      reading(path);
      return source;
    },
  };
  const model = src.format === 'gguf' ? await openGgufSource((await files.open!(src.files[0].path))!, src.files[0].path) : await openHfFolder(files);
  return { model, sha256: src.sha256 };
}

async function loadLocal(src: Extract<ModelSource, { type: 'local' }>, onProgress: (p: SourceProgress) => void): Promise<LoadedSource> {
  const plan = planLocal(src.files);
  const total = plan.files.reduce((s, f) => s + f.file.size, 0);
  const weights = plan.files.find((f) => f.manifest.role === 'weights')!;
  const byName = new Map(plan.files.map((f) => [f.manifest.name, f.file]));
  let loaded = 0;
  const reading = (file: File) => {
    onProgress({ loaded, total, message: `Reading ${file.name} from your disk…` });
    loaded += file.size;
  };
  // The provenance cites the weights file's sha256: hashed a part at a time (a file of any size).
  const hash = async (source: ByteSource) => sha256OfSource(source, (n) => onProgress({ loaded: n, total: source.size, message: `Computing the sha256 of ${weights.file.name} for the figures' provenance: ${mb(n)} of ${mb(source.size)} MB…` }));
  if (plan.format === 'llama2c') {
    const files = new Map<string, Uint8Array>();
    for (const { file, manifest } of plan.files) {
      reading(file);
      files.set(manifest.name, new Uint8Array(await file.arrayBuffer()));
    }
    const model = await openAssetFiles(plan.name, plan.format, files, plan.files.map((f) => ({ ...f.manifest, url: '' })));
    return { model, sha256: await hash(blobSource(weights.file, weights.file.name)) };
  }
  const folder: FileSource = {
    name: plan.name,
    async read(name) {
      const file = byName.get(name);
      if (!file) return null;
      reading(file);
      return new Uint8Array(await file.arrayBuffer());
    },
    async open(name) {
      const file = byName.get(name);
      if (!file) return null;
      reading(file);
      return blobSource(file, file.name);
    },
  };
  const model = plan.format === 'gguf' ? await openGgufSource((await folder.open!(weights.manifest.name))!, weights.file.name) : await openHfFolder(folder);
  return { model, sha256: await hash(blobSource(weights.file, weights.file.name)) };
}
