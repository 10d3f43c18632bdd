/**
 * Turns model bytes into a model and its tokenizer. Pure: Node reads the bytes from disk,
 * the page from fetch/Cache Storage, and both call this.
 */
import { parseLlama2cCheckpoint } from '../formats/llama2c.ts';
import { createTokenizerFromLlama2cVocab, createTokenizerFromSentencePieceModel } from '../tokenizer/load.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { LoadedModel } from './weights.ts';

/** Who made a figure: shown beside every figure and stored in its data. */
export interface ModelProvenance {
  name: string;
  /** sha256 of the weights file. */
  sha256: string;
  parameters: number;
  format: string;
}

export interface OpenedModel {
  model: LoadedModel;
  tokenizer: TextTokenizer;
}

export async function openLlama2c(weights: Uint8Array, tokenizer: { bytes: Uint8Array; name: string }, weightsName = 'model.bin'): Promise<OpenedModel> {
  const model = parseLlama2cCheckpoint(weights, weightsName);
  const tok = tokenizer.name.endsWith('.model')
    ? await createTokenizerFromSentencePieceModel(tokenizer.bytes)
    : await createTokenizerFromLlama2cVocab(tokenizer.bytes, model.config.d_vocab);
  return { model, tokenizer: tok };
}
