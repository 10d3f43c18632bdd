/**
 * Models Lenspress knows by name. The site's default model is stories260K (Karpathy's
 * llama2.c TinyStories model): real, tiny, and small enough to ship with every article.
 */
export interface ModelFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface KnownModel {
  name: string;
  description: string;
  format: 'llama2c';
  /** Weights first, then the tokenizer. */
  files: { weights: ModelFile; tokenizer: ModelFile };
  hub: { repo: string; folder: string; revision: string };
}

export const KNOWN_MODELS: Record<string, KnownModel> = {
  stories260K: {
    name: 'stories260K',
    description: 'Llama-architecture, 260K parameters, trained on TinyStories (Karpathy, llama2.c)',
    format: 'llama2c',
    files: {
      weights: { name: 'stories260K.bin', sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696', bytes: 1056540 },
      tokenizer: { name: 'tok512.model', sha256: 'dfff07d929db979913f166ec94a6f5ecad4c70cfed8eb5c9cbe7e464455e46f5', bytes: 7645 },
    },
    hub: { repo: 'karpathy/tinyllamas', folder: 'stories260K', revision: 'main' },
  },
};

export const DEFAULT_MODEL = 'stories260K';
