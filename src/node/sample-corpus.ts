/**
 * Text corpora for the first-order (Markov) probe (core/analysis/markov.ts). A model's own
 * samples are the corpus whose bigrams it should know best, and need no download: the
 * default corpus of stories260K is text sampled from it at temperature 1 with a seeded PRNG
 * (mulberry32), stored with what reproduces it (seed, temperature, token budget, the model's
 * sha256). Sampling recomputes the whole prefix every step — about a millisecond a token
 * for the 260K model, and it keeps this file independent of the KV-cache engine.
 *
 * Corpus files: JSON { kind: "lenspress-corpus", version: 1, provenance?, documents: string[] },
 * or any other file read as plain text, one document. Bigrams never cross documents.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LenspressError } from '../core/errors.ts';
import type { HookedModel } from '../core/engine/hooked-model.ts';
import type { ModelProvenance } from '../core/model/open.ts';
import { mulberry32 } from '../core/model/random.ts';
import type { TextTokenizer } from '../core/tokenizer/tokenizer.ts';
import { PROJECT_ROOT } from './project-root.ts';

export interface SampleOptions {
  seed: number;
  temperature: number;
  /** Sampling stops at the end of the document during which this many tokens were reached. */
  tokens: number;
  maxTokensPerDocument: number;
}

export const DEFAULT_SAMPLE_OPTIONS: SampleOptions = { seed: 1, temperature: 1, tokens: 50_000, maxTokensPerDocument: 128 };

export interface CorpusProvenance extends SampleOptions {
  model: { name: string; sha256: string };
  /** Tokens sampled (the starting BOS and the stop token not counted). */
  sampledTokens: number;
  documents: number;
  sampler: string;
  codeVersion: string;
}

export interface CorpusFile {
  kind: 'lenspress-corpus';
  version: 1;
  provenance?: CorpusProvenance;
  documents: string[];
}

/** Corpora the markov command uses when --corpus is not given. */
export const DEFAULT_CORPORA: Record<string, string> = { stories260K: 'content/data/stories260K-corpus.json' };

export function defaultCorpusPath(modelName: string): string | null {
  const rel = DEFAULT_CORPORA[modelName];
  return rel ? path.join(PROJECT_ROOT, rel) : null;
}

/** One draw from softmax(logits / T), in float64; `u` is uniform in [0, 1). */
export function sampleFromLogits(logits: ArrayLike<number>, temperature: number, u: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const w = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += w[i] = Math.exp((logits[i] - max) / temperature);
  let r = u * z;
  for (let i = 0; i < w.length; i++) if ((r -= w[i]) < 0) return i;
  return w.length - 1; // r reached the end only by rounding
}

export const SAMPLER_NOTE = 'temperature sampling: softmax(logits/T) in float64, one mulberry32(seed) draw per token; each document starts at BOS and ends at BOS, EOS or the per-document limit';

export async function sampleCorpus(hooked: HookedModel, tokenizer: TextTokenizer, model: ModelProvenance, codeVersion: string, opts: SampleOptions = DEFAULT_SAMPLE_OPTIONS): Promise<CorpusFile> {
  if (!(opts.temperature > 0) || !Number.isFinite(opts.temperature)) throw new LenspressError('bad-option', `temperature must be > 0, got ${opts.temperature}`);
  if (!Number.isInteger(opts.tokens) || opts.tokens < 1) throw new LenspressError('bad-option', `the token budget must be a whole number ≥ 1, got ${opts.tokens}`);
  const c = hooked.config;
  const maxDoc = Math.min(opts.maxTokensPerDocument, c.n_ctx - 1);
  const stop = new Set([c.bos_token_id, c.eos_token_id]);
  const rand = mulberry32(opts.seed);
  const documents: string[] = [];
  let sampled = 0;
  while (sampled < opts.tokens) {
    const ids = [c.bos_token_id];
    while (ids.length - 1 < maxDoc) {
      const logits = (await hooked.run(ids, ['logits'])).get('logits')!.data;
      const next = sampleFromLogits(logits.subarray((ids.length - 1) * c.d_vocab, ids.length * c.d_vocab), opts.temperature, rand());
      if (stop.has(next)) break;
      ids.push(next);
    }
    sampled += ids.length - 1;
    documents.push(tokenizer.decode(ids.slice(1)));
  }
  return {
    kind: 'lenspress-corpus',
    version: 1,
    provenance: { model: { name: model.name, sha256: model.sha256 }, ...opts, sampledTokens: sampled, documents: documents.length, sampler: SAMPLER_NOTE, codeVersion },
    documents,
  };
}

export async function writeCorpus(file: string, corpus: CorpusFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(corpus, null, 1) + '\n');
}

export async function readCorpus(file: string): Promise<CorpusFile> {
  if (!existsSync(file)) throw new LenspressError('missing-file', `corpus file not found: ${file}`);
  const text = await readFile(file, 'utf8');
  if (!file.endsWith('.json')) return { kind: 'lenspress-corpus', version: 1, documents: [text] };
  let j: Partial<CorpusFile>;
  try {
    j = JSON.parse(text) as Partial<CorpusFile>;
  } catch (e) {
    throw new LenspressError('bad-corpus', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(j.documents) || !j.documents.every((d) => typeof d === 'string')) {
    throw new LenspressError('bad-corpus', `${file}: expected a JSON object with "documents": an array of strings (a .txt file is read as plain text)`);
  }
  return { kind: 'lenspress-corpus', version: 1, provenance: j.provenance, documents: j.documents };
}

/** Every document tokenized as the model reads text: BOS, then the text. */
export function tokenizeCorpus(corpus: CorpusFile, tokenizer: TextTokenizer): number[][] {
  return corpus.documents.map((d) => tokenizer.encode(d, { addBos: true }));
}
