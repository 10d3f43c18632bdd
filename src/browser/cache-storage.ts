/**
 * The hub client's byte cache (ByteCache) over the browser's Cache Storage, so a model
 * downloaded once is not downloaded again, even after a reload. HubClient puts an entry only
 * after the file's size and sha256 were checked, so a stopped or broken download leaves
 * nothing behind. Available in the page and in Workers.
 */
import type { ByteCache } from '../core/hub/hub-client.ts';

export const MODEL_CACHE = 'lenspress-models-v1';

export function cacheStorageBytes(name = MODEL_CACHE): ByteCache | undefined {
  if (typeof caches === 'undefined') return undefined; // e.g. an insecure origin: download every time
  return {
    async match(key) {
      const res = await (await caches.open(name)).match(key);
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      const res = new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) } });
      // A full disk must not fail the run: the model is in memory already.
      await (await caches.open(name)).put(key, res).catch(() => undefined);
    },
  };
}
