/**
 * TextTokenizer factories for SentencePiece BPE vocabularies (stories260K's tok512, Llama 2).
 * Encoding runs through @huggingface/tokenizers on a tokenizer.json built in code; decoding
 * follows SentencePiece's own rules directly, because its handling of invalid UTF-8 (one
 * U+FFFD per bad byte) and of the first "▁" cannot be expressed as a Hugging Face decoder
 * chain. Both factories are synchronous.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { LenspressError } from '../errors.ts';
import { parseLlama2cVocab } from './llama2c-vocab.ts';
import { SPACE_SYMBOL, buildTokenizerJson, sentencePieceModelFromLlama2c, type TokenizerJson } from './sentencepiece-json.ts';
import { parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model.ts';
import type { EncodeOptions, TextTokenizer } from './tokenizer.ts';

export function createTokenizerFromSentencePieceModel(bytes: Uint8Array, fileName = 'tokenizer.model'): TextTokenizer {
  return new SentencePieceTextTokenizer(parseSentencePieceModel(bytes, fileName));
}

/** `vocabSize` comes from the model config (the .bin does not store it); see sentencePieceModelFromLlama2c for what is assumed. */
export function createTokenizerFromLlama2cVocab(bytes: Uint8Array, vocabSize: number, fileName = 'tokenizer.bin'): TextTokenizer {
  return new SentencePieceTextTokenizer(sentencePieceModelFromLlama2c(parseLlama2cVocab(bytes, vocabSize, fileName)));
}

export class SentencePieceTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** The generated tokenizer.json, e.g. to save next to an exported model. */
  readonly tokenizerJson: TokenizerJson;
  private readonly hf: Tokenizer;
  private readonly stripFirstSpace: boolean;

  constructor(private readonly model: SentencePieceModel) {
    const { tokenizer, config } = buildTokenizerJson(model);
    this.tokenizerJson = tokenizer;
    this.hf = new Tokenizer(tokenizer, config);
    this.vocabSize = model.pieces.length;
    this.bosId = model.bosId;
    this.eosId = model.eosId;
    this.stripFirstSpace = model.normalizer.addDummyPrefix || model.normalizer.removeExtraWhitespaces;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: opts.addBos ?? true }).ids;
  }

  piece(id: number): string {
    return this.model.pieces[this.checkId(id)].piece;
  }

  /** SentencePieceProcessor::Decode: control pieces print nothing, <unk> prints unk_surface, runs of byte pieces are decoded together. */
  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    for (const raw of ids) {
      const { piece, type } = this.model.pieces[this.checkId(raw)];
      if (type === 'byte') {
        bytes.push(parseInt(piece.slice(3, 5), 16));
        continue;
      }
      if (bytes.length > 0) { text += decodeUtf8LikeSentencePiece(bytes); bytes = []; }
      if (type === 'control') continue;
      if (type === 'unknown') { text += this.model.unkSurface; continue; }
      // The dummy-prefix "▁" is dropped only while nothing has been output yet.
      const body = text === '' && this.stripFirstSpace && piece.startsWith(SPACE_SYMBOL) ? piece.slice(SPACE_SYMBOL.length) : piece;
      text += body.replaceAll(SPACE_SYMBOL, ' ');
    }
    return text + decodeUtf8LikeSentencePiece(bytes);
  }

  private checkId(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new LenspressError('bad-token-id', `token id ${id} is not in the vocabulary (expected an integer 0…${this.vocabSize - 1})`);
    }
    return id;
  }
}

/**
 * string_util::DecodeUTF8 as SentencePiece uses it for byte pieces: a well-formed character
 * (no overlongs, surrogates or code points above U+10FFFF) is kept, and each byte that does
 * not start one becomes U+FFFD on its own. (TextDecoder would merge a truncated sequence into a
 * single U+FFFD, so it would not match.)
 */
export function decodeUtf8LikeSentencePiece(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  const trail = (k: number) => i + k < bytes.length && (bytes[i + k] & 0xc0) === 0x80;
  while (i < bytes.length) {
    const b0 = bytes[i];
    let cp = -1;
    let len = 1;
    if (b0 < 0x80) cp = b0;
    else if ((b0 & 0xe0) === 0xc0 && trail(1)) { cp = ((b0 & 0x1f) << 6) | (bytes[i + 1] & 0x3f); len = 2; if (cp < 0x80) cp = -1; }
    else if ((b0 & 0xf0) === 0xe0 && trail(1) && trail(2)) { cp = ((b0 & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f); len = 3; if (cp < 0x800) cp = -1; }
    else if ((b0 & 0xf8) === 0xf0 && trail(1) && trail(2) && trail(3)) {
      cp = ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      len = 4;
      if (cp < 0x10000) cp = -1;
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = -1;
    if (cp > 0x10ffff) cp = -1;
    if (cp < 0) { out += '\uFFFD'; i += 1; } else { out += String.fromCodePoint(cp); i += len; }
  }
  return out;
}
