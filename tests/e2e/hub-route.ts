/**
 * A mock Hugging Face hub inside the browser context, for the model-picker tests: Playwright's
 * context.route intercepts https://huggingface.co/** for the page and for its dedicated
 * Worker alike (checked in Chromium), so the page's real hub client (file list, /resolve/,
 * CORS) runs against local files. /resolve/ answers with the file itself, not the hub's 302
 * to its CDN: Playwright routes only the first request of a redirect chain, and Chromium
 * would follow the redirect to the real network. Following redirects is tested against a
 * local HTTP server in tests/unit/hub.test.ts.
 * Listings may claim files that are never served (a 7B model's shards), a repository may be
 * gated (401), a file may be held until the test lets it go (a slow download), and Range
 * requests get their bytes (206), as the hub's CDN answers them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Route } from '@playwright/test';

export interface RouteRepo {
  /** Real files, served. */
  dir?: string;
  /** Files only listed (name → claimed size), plus served small ones (name → content). */
  listed?: Record<string, number>;
  served?: Record<string, string>;
  gated?: boolean;
  /** Files whose transfer waits for this promise. */
  holdUntil?: { file: string; until: Promise<void>; started: () => void };
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length, content-range, etag' };

export interface RoutedHub {
  /** `GET url` of every hub/CDN request, in order. */
  requests: string[];
}

export async function routeHub(context: BrowserContext, repos: Record<string, RouteRepo>): Promise<RoutedHub> {
  const hub: RoutedHub = { requests: [] };
  const filesOf = (repo: RouteRepo): Map<string, Buffer> => {
    const m = new Map<string, Buffer>();
    if (repo.dir) for (const f of readdirSync(repo.dir)) m.set(f, readFileSync(path.join(repo.dir, f)));
    for (const [f, text] of Object.entries(repo.served ?? {})) m.set(f, Buffer.from(text));
    return m;
  };
  const handle = async (route: Route) => {
    const req = route.request();
    const url = new URL(req.url());
    hub.requests.push(`${req.method()} ${url.href}`);
    if (req.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: { ...CORS, 'access-control-allow-headers': '*' } });
    const api = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/);
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const name = (api ?? resolve)?.[1];
    const repo = name ? repos[name] : undefined;
    if (!repo) return route.fulfill({ status: 404, headers: CORS, body: 'Repository not found' });
    if (repo.gated) return route.fulfill({ status: 401, headers: CORS, body: 'Access to model is restricted' });
    const files = filesOf(repo);
    if (api) {
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const siblings = [
        ...[...files].map(([f, b]) => ({ rfilename: f, size: b.byteLength, lfs: { sha256: sha(b), size: b.byteLength } })),
        ...Object.entries(repo.listed ?? {}).map(([f, size]) => ({ rfilename: f, size, lfs: { sha256: '0'.repeat(64), size } })),
      ];
      return route.fulfill({ status: 200, headers: { ...CORS, 'content-type': 'application/json' }, body: JSON.stringify({ id: name, sha: 'abc', siblings }) });
    }
    if (!resolve) return route.fulfill({ status: 404, headers: CORS, body: 'Not found' });
    const file = resolve[3];
    const bytes = files.get(file);
    if (!bytes) return route.fulfill({ status: 404, headers: CORS, body: 'Entry not found' });
    if (repo.holdUntil?.file === file) {
      repo.holdUntil.started();
      await repo.holdUntil.until;
    }
    const range = req.headers().range?.match(/^bytes=(\d+)-(\d*)$/);
    if (range) {
      const start = Number(range[1]), end = Math.min(bytes.byteLength - 1, range[2] ? Number(range[2]) : Infinity);
      const part = bytes.subarray(start, end + 1);
      return route.fulfill({ status: 206, headers: { ...CORS, 'content-type': 'application/octet-stream', 'content-length': String(part.byteLength), 'content-range': `bytes ${start}-${end}/${bytes.byteLength}` }, body: part }).catch(() => undefined);
    }
    // The page may have gone (a Stop terminates the Worker): nothing to answer then.
    await route.fulfill({ status: 200, headers: { ...CORS, 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) }, body: bytes }).catch(() => undefined);
  };
  await context.route('https://huggingface.co/**', handle);
  return hub;
}
