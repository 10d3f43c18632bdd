/**
 * llama2.c tokenizer file (`tokenizer.bin`, `tok512.bin`), as written by llama2.c's
 * tokenizer.py `export()`: int32 max_token_length, then per token: float32 score,
 * int32 byte length, the UTF-8 bytes. The file does not store the token count, so the caller
 * passes the model config's vocab_size. Pieces come back exactly as stored (llama2.c writes
 * "▁" as a space and BOS/EOS as "\n<s>\n" / "\n</s>\n"); sentencepiece-json.ts undoes that.
 */
import { LenspressError } from '../errors.ts';

export interface Llama2cToken {
  readonly text: string;
  readonly score: number;
}

export interface Llama2cVocab {
  readonly maxTokenLength: number;
  readonly tokens: readonly Llama2cToken[];
}

/** Bytes per token before its text: float32 score + int32 length. */
const TOKEN_HEADER = 8;

export function parseLlama2cVocab(bytes: Uint8Array, vocabSize: number, fileName = 'tokenizer.bin'): Llama2cVocab {
  const bad = (code: string, what: string): never => {
    throw new LenspressError(code, `${fileName}: ${what}; expected a llama2.c tokenizer (.bin) with ${vocabSize} tokens`);
  };
  // Each token needs at least its 8-byte header, so this bounds vocabSize by the file size
  // before anything is allocated for it.
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) bad('bad-tokenizer', `vocabSize ${vocabSize} is not a positive integer`);
  if (bytes.byteLength < 4) bad('truncated-file', `the file has ${bytes.byteLength} bytes, too few for the max_token_length header`);
  const minBytes = 4 + vocabSize * TOKEN_HEADER;
  if (bytes.byteLength < minBytes) bad('truncated-file', `the file has ${bytes.byteLength} bytes, fewer than the ${minBytes} that ${vocabSize} token headers alone need`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) bad('bad-tokenizer', `max_token_length is ${maxTokenLength}, expected a positive integer`);

  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a piece may be exactly U+FEFF (Mistral's 31759)
  const tokens: Llama2cToken[] = [];
  let pos = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (bytes.byteLength - pos < TOKEN_HEADER) bad('truncated-file', `the file ends in the header of token ${i} (byte ${pos})`);
    const score = view.getFloat32(pos, true);
    const len = view.getInt32(pos + 4, true);
    pos += TOKEN_HEADER;
    if (len < 0 || len > maxTokenLength) bad('bad-tokenizer', `token ${i} has byte length ${len}, outside 0…max_token_length (${maxTokenLength})`);
    if (bytes.byteLength - pos < len) bad('truncated-file', `token ${i} needs ${len} bytes at byte ${pos}, but only ${bytes.byteLength - pos} remain`);
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(pos, pos + len));
    } catch {
      return bad('bad-tokenizer', `token ${i} is not valid UTF-8`);
    }
    pos += len;
    tokens.push({ text, score });
  }
  // Leftover bytes almost always mean vocabSize does not match this file.
  if (pos !== bytes.byteLength) bad('bad-tokenizer', `${bytes.byteLength - pos} bytes follow token ${vocabSize - 1}: the vocabulary size does not match this file`);
  return { maxTokenLength, tokens };
}
