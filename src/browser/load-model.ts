/**
 * The Worker's side of a reader-picked model (ModelSource): hub files through the core
 * HubClient with Cache Storage (progress with speed and time left over all files; entries are
 * written only after the size and sha256 check), or the reader's own files. Terminating the
 * Worker aborts a download; nothing half-written is ever cached.
 */
import { sha256Hex } from '../core/hub/hub-client.ts';
import { parseHubId } from '../core/hub/hub-id.ts';
import type { OpenedModel } from '../core/model/open.ts';
import { type AssetFile, openAssetFiles } from '../core/model/open-asset.ts';
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
  const files = new Map<string, Uint8Array>();
  for (const f of src.files) {
    files.set(f.path, await client.download(id, f));
    done += f.size ?? files.get(f.path)!.byteLength;
  }
  const weights = src.format === 'gguf' ? src.files[0].path : (src.files.find((f) => f.sha256 === src.sha256)?.path ?? src.files[0].path);
  const manifest: AssetFile[] = src.files.map((f) => ({ name: f.path, url: '', bytes: f.size ?? 0, sha256: f.sha256, ...(f.path === weights ? { role: 'weights' as const } : {}) }));
  return { model: await openAssetFiles(src.name, src.format, files, manifest), sha256: src.sha256 };
}

async function loadLocal(src: Extract<ModelSource, { type: 'local' }>, onProgress: (p: SourceProgress) => void): Promise<LoadedSource> {
  const plan = planLocal(src.files);
  const total = plan.files.reduce((s, f) => s + f.file.size, 0);
  const files = new Map<string, Uint8Array>();
  let loaded = 0;
  for (const { file, manifest } of plan.files) {
    onProgress({ loaded, total, message: `Reading ${file.name} from your disk…` });
    files.set(manifest.name, new Uint8Array(await file.arrayBuffer()));
    loaded += file.size;
  }
  const weights = plan.files.find((f) => f.manifest.role === 'weights')!.manifest.name;
  const sha256 = await sha256Hex(files.get(weights)!);
  return { model: await openAssetFiles(plan.name, plan.format, files, plan.files.map((f) => ({ ...f.manifest, url: '' }))), sha256 };
}
