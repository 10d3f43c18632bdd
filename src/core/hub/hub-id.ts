/**
 * Hugging Face hub ids: `org/name`, `org/name@revision`, and `org/name[@revision]:file.gguf`
 * for one GGUF file of a repository.
 */
import { LenspressError } from '../errors.ts';

export interface HubId {
  repo: string;
  revision: string;
  /** A single file (a .gguf) instead of a Hugging Face folder. */
  file?: string;
}

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function looksLikeHubId(spec: string): boolean {
  return REPO.test(spec.split(/[@:]/)[0]) && !spec.startsWith('.') && !spec.startsWith('/');
}

export function parseHubId(spec: string): HubId {
  const m = spec.match(/^([^@:]+)(?:@([^:]+))?(?::(.+))?$/);
  if (!m || !REPO.test(m[1])) {
    throw new LenspressError('bad-hub-id', `"${spec}" is not a hub id: expected org/name, org/name@revision or org/name:file.gguf`);
  }
  const [, repo, revision = 'main', file] = m;
  if (file !== undefined && (file.includes('..') || file.startsWith('/'))) throw new LenspressError('bad-hub-id', `"${file}" is not a file inside the repository`);
  return { repo, revision, file };
}
