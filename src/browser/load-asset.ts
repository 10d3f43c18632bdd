/**
 * Downloads a ModelAsset's files from the site (with progress over all files), verifies each
 * listed sha256, and opens the model — the page side of src/node/site-models.ts.
 */
import { type OpenedModel } from '../core/model/open.ts';
import { openAssetFiles } from '../core/model/open-asset.ts';
import { fetchWithProgress, sha256Hex } from './fetch-progress.ts';
import type { ModelAsset } from './protocol.ts';

export async function loadAsset(asset: ModelAsset, onProgress: (loaded: number, total: number, file: string) => void = () => {}): Promise<OpenedModel> {
  const files = new Map<string, Uint8Array>();
  let done = 0;
  for (const f of asset.files) {
    const bytes = await fetchWithProgress(f.url, (l) => onProgress(done + l, asset.bytes, f.name));
    if (f.sha256) {
      const digest = await sha256Hex(bytes);
      if (digest !== f.sha256) throw new Error(`the downloaded ${f.name} has sha256 ${digest.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…: reload the page (the file may be damaged or cached from another version)`);
    }
    files.set(f.name, bytes);
    done += bytes.byteLength;
  }
  return openAssetFiles(asset.name, asset.format, files, asset.files);
}
