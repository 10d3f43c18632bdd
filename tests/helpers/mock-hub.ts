/**
 * A local HTTP server with the Hugging Face hub's URL layout, for tests: the file list API,
 * /resolve/ with a 302 to a content URL, Range requests, LFS sha256 in the listing, gated
 * repositories (401 without the right token), and a switch that breaks a transfer midway.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface MockRepo {
  dir: string;
  gatedToken?: string;
}

export interface MockHub {
  url: string;
  requests: string[];
  /** Bytes after which the next transfer of any file is cut (once). */
  breakNextAfter?: number;
  /** Serve a different byte at this offset (a damaged CDN). */
  corruptAt?: number;
  /** Answer Range requests with the whole file (200), as a server without Range support does. */
  ignoreRange?: boolean;
  close(): Promise<void>;
}

export async function startMockHub(repos: Record<string, MockRepo>): Promise<MockHub> {
  const hub: MockHub = { url: '', requests: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hub.requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const authOk = (repo: MockRepo) => !repo.gatedToken || req.headers.authorization === `Bearer ${repo.gatedToken}`;
    const api = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/);
    if (api) {
      const repo = repos[api[1]];
      if (!repo) return void res.writeHead(404).end('{"error":"Repository not found"}');
      if (!authOk(repo)) return void res.writeHead(401).end('{"error":"Access to model is restricted"}');
      const siblings = readdirSync(repo.dir).map((f) => {
        const bytes = readFileSync(path.join(repo.dir, f));
        return { rfilename: f, size: bytes.byteLength, lfs: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.byteLength } };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ id: api[1], sha: 'abc', siblings }));
    }
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (resolve) {
      const repo = repos[resolve[1]];
      if (!repo) return void res.writeHead(404).end('Repository not found');
      if (!authOk(repo)) return void res.writeHead(401).end('Access restricted');
      return void res.writeHead(302, { location: `/cdn/${resolve[1]}/${resolve[3]}` }).end();
    }
    const cdn = url.pathname.match(/^\/cdn\/([^/]+\/[^/]+)\/(.+)$/);
    const repo = cdn && repos[cdn[1]];
    const file = repo && path.join(repo.dir, cdn[2]);
    if (!file || !statSync(file, { throwIfNoEntry: false })) return void res.writeHead(404).end('Entry not found');
    let bytes = readFileSync(file);
    if (hub.corruptAt !== undefined && hub.corruptAt < bytes.byteLength) {
      bytes = Buffer.from(bytes);
      bytes[hub.corruptAt] ^= 0xff;
    }
    const range = hub.ignoreRange ? null : req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Math.min(bytes.byteLength - 1, Number(range[2])) : bytes.byteLength - 1;
    const body = bytes.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, { 'content-length': body.byteLength, ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes.byteLength}` } : {}) });
    const cut = hub.breakNextAfter;
    if (cut !== undefined && cut < body.byteLength) {
      hub.breakNextAfter = undefined;
      res.write(body.subarray(0, cut));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () => new Promise<void>((r) => server.close(() => r()));
  return hub;
}
