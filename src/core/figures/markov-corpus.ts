/**
 * The corpus the Markov-probe figure compares a model with, per model name: the files
 * src/node/sample-corpus.ts writes (stories260K: text sampled from the model itself, see
 * DEFAULT_CORPORA there). Loaded by a dynamic import, so the bundler puts the JSON in a
 * chunk of its own that the page's Worker fetches only when a Markov figure runs, and Node
 * reads it as a JSON module at build time: one code path for both.
 *
 * Tokenized as src/node/sample-corpus.ts's tokenizeCorpus does (BOS, then the text) — the
 * CLI's `lenspress markov` and this figure must count the same bigrams.
 */
import { type BigramCounts, countBigrams } from '../analysis/bigram.ts';
import { LenspressError } from '../errors.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';

export interface CorpusJson {
  kind: string;
  version: number;
  provenance?: { model?: { name: string; sha256: string }; seed?: number; temperature?: number; sampledTokens?: number; documents?: number };
  documents: string[];
}

interface CorpusEntry {
  /** Where the file lives in the repository, for provenance. */
  file: string;
  load: () => Promise<CorpusJson>;
}

const CORPORA: Record<string, CorpusEntry> = {
  stories260K: {
    file: 'content/data/stories260K-corpus.json',
    load: async () => (await import('../../../content/data/stories260K-corpus.json', { with: { type: 'json' } })).default as CorpusJson,
  },
};

/** The repository path of a model's default corpus (the build hashes it into the figure cache key), or null. */
export function defaultCorpusFile(modelName: string): string | null {
  return CORPORA[modelName]?.file ?? null;
}

export interface LoadedCorpus {
  file: string;
  corpus: CorpusJson;
  counts: BigramCounts;
}

const cache = new WeakMap<TextTokenizer, Map<string, Promise<LoadedCorpus>>>();

/** The model's default corpus with its bigram counts (counted once per tokenizer). */
export function defaultCorpus(modelName: string, tokenizer: TextTokenizer, vocab: number): Promise<LoadedCorpus> {
  const entry = CORPORA[modelName];
  if (!entry) throw new LenspressError('missing-corpus', `no default corpus for ${modelName}: the Markov probe figure knows corpora for ${Object.keys(CORPORA).join(', ')} (the CLI's lenspress markov takes --corpus FILE)`);
  let byName = cache.get(tokenizer);
  if (!byName) cache.set(tokenizer, (byName = new Map()));
  let loaded = byName.get(modelName);
  if (!loaded) {
    loaded = entry.load().then((corpus) => {
      if (!Array.isArray(corpus.documents)) throw new LenspressError('bad-corpus', `${entry.file}: expected "documents", an array of strings`);
      const sequences = corpus.documents.map((d) => tokenizer.encode(d, { addBos: true }));
      return { file: entry.file, corpus, counts: countBigrams(sequences, vocab) };
    });
    loaded.catch(() => byName.delete(modelName));
    byName.set(modelName, loaded);
  }
  return loaded;
}
