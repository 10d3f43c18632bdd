/**
 * The tokenizer embedded in a GGUF file, tokenizer.ggml.model "llama" (SentencePiece BPE:
 * tokenizer.ggml.tokens, scores, token_type with SentencePiece's piece types 1–6), turned into
 * a SentencePieceModel for the existing builder (sentencepiece-json.ts).
 *
 * Normalisation follows llama.cpp, which is what a GGUF file means: a "▁" is prepended when
 * tokenizer.ggml.add_space_prefix is true (the default) and spaces are escaped, but runs of
 * whitespace are kept (llama.cpp's SPM tokenizer never collapses them; the GGUF does not say
 * how the original SentencePiece model was trained). For tokenizers trained with
 * remove_extra_whitespaces (tok512) ids therefore differ from SentencePiece's only on text with
 * leading, trailing or repeated spaces; pass the .model file to get SentencePiece's behaviour.
 *
 * Also the reverse for writers: a Hugging Face tokenizer.json converted from SentencePiece
 * (LlamaConverter: BPE with byte fallback) → tokens/scores/types for GGUF.
 */
import { LenspressError } from '../errors.ts';
import type { GgufFile } from '../formats/gguf.ts';
import { ggufArray, ggufNumber, ggufString } from '../formats/gguf.ts';
import type { GgufVocab } from '../formats/gguf-model.ts';
import { SentencePieceTextTokenizer } from './load.ts';
import { BYTE_PIECE } from './sentencepiece-json.ts';
import type { PieceType, SentencePieceEntry, SentencePieceModel } from './sentencepiece-model.ts';

const TYPES: Record<number, PieceType> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user_defined', 5: 'unused', 6: 'byte' };

export function sentencePieceModelFromGguf(file: GgufFile): SentencePieceModel {
  const fn = file.fileName;
  const model = ggufString(file, 'tokenizer.ggml.model');
  if (model === undefined) throw new LenspressError('missing-tokenizer', `${fn}: no embedded tokenizer (tokenizer.ggml.model is missing); pass --tokenizer`);
  if (model !== 'llama') {
    throw new LenspressError('unsupported-tokenizer', `${fn}: tokenizer.ggml.model "${model}" is not supported (supported: "llama", SentencePiece BPE); use the model's Hugging Face folder with its tokenizer.json, or pass --tokenizer`);
  }
  const tokens = ggufArray(file, 'tokenizer.ggml.tokens');
  if (!tokens || tokens.length === 0) throw new LenspressError('bad-tokenizer', `${fn}: tokenizer.ggml.tokens is missing or empty`);
  const scores = ggufArray(file, 'tokenizer.ggml.scores');
  const types = ggufArray(file, 'tokenizer.ggml.token_type');
  for (const [key, arr] of [['scores', scores], ['token_type', types]] as const) {
    if (arr && arr.length !== tokens.length) throw new LenspressError('bad-tokenizer', `${fn}: tokenizer.ggml.${key} has ${arr.length} entries, tokens has ${tokens.length}`);
  }
  let anyByte = false;
  const pieces: SentencePieceEntry[] = tokens.map((t, id) => {
    if (typeof t !== 'string') throw new LenspressError('bad-tokenizer', `${fn}: tokenizer.ggml.tokens[${id}] is not a string`);
    const score = scores ? Number(scores[id]) : 0;
    const code = types ? Number(types[id]) : 1;
    const type = TYPES[code];
    if (!type) throw new LenspressError('bad-tokenizer', `${fn}: tokenizer.ggml.token_type[${id}] = ${code}, expected 1–6`);
    if (type === 'byte') anyByte = true;
    return { piece: t, score, type };
  });
  const id = (key: string, fallback: number) => ggufNumber(file, `tokenizer.ggml.${key}`, fallback);
  const addSpacePrefix = file.metadata.get('tokenizer.ggml.add_space_prefix') ?? true;
  return {
    pieces, modelType: 'bpe', byteFallback: anyByte, splitDigits: false, treatWhitespaceAsSuffix: false,
    unkId: id('unknown_token_id', 0), bosId: id('bos_token_id', 1), eosId: id('eos_token_id', 2), padId: -1, unkSurface: ' \u2047 ',
    normalizer: { name: 'identity', hasPrecompiledCharsmap: false, addDummyPrefix: addSpacePrefix === true, removeExtraWhitespaces: false, escapeWhitespaces: true },
  };
}

export function createTokenizerFromGguf(file: GgufFile): SentencePieceTextTokenizer {
  return new SentencePieceTextTokenizer(sentencePieceModelFromGguf(file));
}

interface HfTokenizerJsonLike {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; unk_token?: string };
}

/**
 * tokens/scores/types for GGUF from a SentencePiece-derived BPE tokenizer.json. The BPE rank
 * of a piece is the position of the first merge that produces it; its score is minus that rank
 * (pieces no merge produces — characters — rank after all merges), so SentencePiece's
 * highest-score-first merging replays the merge list. Special added tokens are control
 * pieces, the unk token is unknown, "<0xXX>" pieces are bytes.
 */
export function ggufVocabFromTokenizerJson(json: unknown, fileName = 'tokenizer.json'): GgufVocab {
  const j = json as HfTokenizerJsonLike;
  const vocab = j?.model?.vocab;
  if (j?.model?.type !== 'BPE' || typeof vocab !== 'object' || vocab === null) throw new LenspressError('unsupported-tokenizer', `${fileName}: expected a BPE model with a vocab (a SentencePiece-derived tokenizer such as Llama's or Mistral's)`);
  const n = Object.keys(vocab).length;
  const tokens: string[] = new Array(n);
  for (const [piece, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0 || id >= n || tokens[id] !== undefined) throw new LenspressError('bad-tokenizer', `${fileName}: vocab ids are not 0…${n - 1}, each once (piece ${JSON.stringify(piece)} has id ${id})`);
    tokens[id] = piece;
  }
  const rank = new Map<string, number>();
  (j.model.merges ?? []).forEach((m, i) => {
    const [l, r] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
    if (!rank.has(l + r)) rank.set(l + r, i);
  });
  const special = new Set((j.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
  const unkId = j.model.unk_token !== undefined ? vocab[j.model.unk_token] ?? 0 : 0;
  const scores = new Float32Array(n);
  const types = new Int32Array(n);
  tokens.forEach((p, id) => {
    if (id === unkId) types[id] = 2;
    else if (special.has(id)) types[id] = 3;
    else if (BYTE_PIECE.test(p)) types[id] = 6;
    else {
      types[id] = 1;
      scores[id] = -(rank.get(p) ?? rank.size + id);
    }
  });
  const idOf = (content: string, fallback: number) => vocab[content] ?? fallback;
  return { tokens, scores, types, bosId: idOf('<s>', 1), eosId: idOf('</s>', 2), unkId };
}
