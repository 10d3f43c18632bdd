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

/**
 * A model without a corpus of its own gets stories260K's: it is plain English text
 * (TinyStories-like stories), so its bigrams under the model's own tokenizer are a fair, if
 * narrow, corpus for any model; the figure's provenance names the file and where it came from.
 */
const corpusEntry = (modelName: string): CorpusEntry => CORPORA[modelName] ?? CORPORA.stories260K;

/** The repository path of a model's default corpus (the build hashes it into the figure cache key). */
export function defaultCorpusFile(modelName: string): string {
  return corpusEntry(modelName).file;
}

export interface LoadedCorpus {
  file: string;
  corpus: CorpusJson;
  counts: BigramCounts;
}

const cache = new WeakMap<TextTokenizer, Map<string, Promise<LoadedCorpus>>>();

/** The model's default corpus with its bigram counts (counted once per tokenizer). */
export function defaultCorpus(modelName: string, tokenizer: TextTokenizer, vocab: number): Promise<LoadedCorpus> {
  const entry = corpusEntry(modelName);
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
