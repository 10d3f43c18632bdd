/**
 * The hub as the page and its Worker use it: huggingface.co (the CSP's connect-src allows it
 * and its file CDNs), Cache Storage, and what to tell a reader when a model is gated.
 * Weights files always stream into Cache Storage in parts (streamAbove 0), so models of
 * every size take one path, and the one every hub test in the browser exercises.
 * Nothing here runs until a reader picks a hub model.
 */
import { type DownloadProgress, HubClient } from '../core/hub/hub-client.ts';
import { cacheStorageBytes } from './cache-storage.ts';

export const HUB_URL = 'https://huggingface.co';

export const PAGE_AUTH_HINT =
  "Lenspress cannot download gated or private models in the page (that would need your access token in this page): accept the model's terms on huggingface.co, then rebuild the figures with the CLI: `npx lenspress figures --model <id> --token <your token>`";

export function pageHubClient(hubUrl = HUB_URL, onProgress?: (p: DownloadProgress) => void): HubClient {
  return new HubClient({ hubUrl, fetch: (input, init) => fetch(input, init), cache: cacheStorageBytes(), authHint: PAGE_AUTH_HINT, onProgress, streamAbove: 0 });
}
