/**
 * Turns a SentencePiece BPE vocabulary into a Hugging Face `tokenizer.json` object (plus the
 * matching tokenizer_config) for `@huggingface/tokenizers`, chosen so that encoding gives the
 * same ids as SentencePiece itself. It follows transformers' LlamaConverter, with deviations
 * where Hugging Face's Llama tokenizer differs from SentencePiece (each marked "SP:" below).
 */
import { LenspressError } from '../errors.ts';
import type { Llama2cVocab } from './llama2c-vocab.ts';
import type { PieceType, SentencePieceEntry, SentencePieceModel } from './sentencepiece-model.ts';

/** SentencePiece's escaped space, U+2581 "▁". */
export const SPACE_SYMBOL = '\u2581';
/** SentencePiece's byte pieces are exactly "<0x%02X>" (upper-case hex). */
export const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

/** The tokenizer.json fields this module writes (a subset of the format). */
export interface TokenizerJson {
  version: string;
  added_tokens: unknown[];
  normalizer: { type: 'Sequence'; normalizers: Record<string, unknown>[] } | null;
  pre_tokenizer: null;
  post_processor: Record<string, unknown>;
  decoder: { type: 'Sequence'; decoders: Record<string, unknown>[] };
  model: {
    type: 'BPE'; dropout: null; unk_token: string; continuing_subword_prefix: null; end_of_word_suffix: null;
    fuse_unk: boolean; byte_fallback: boolean; ignore_merges: boolean;
    vocab: Record<string, number>; merges: [string, string][];
  };
}

export interface TokenizerConfigJson {
  tokenizer_class: string;
  bos_token: string; eos_token: string; unk_token: string;
  add_bos_token: boolean; add_eos_token: boolean;
  clean_up_tokenization_spaces: boolean;
  additional_special_tokens: string[];
  [key: string]: unknown;
}

/**
 * A llama2.c tokenizer.bin holds only pieces and scores, so the rest is ASSUMED to be the
 * SentencePiece settings llama2.c's tokenizers (tok512, Llama 2's 32000) were trained with:
 * BPE, ids 0/1/2 = <unk>/<s>/</s>, identity normalisation, add_dummy_prefix,
 * remove_extra_whitespaces, byte fallback when "<0xXX>" pieces exist. llama2.c stores "▁"
 * as " " and BOS/EOS as "\n<s>\n"/"\n</s>\n"; both are undone here.
 */
export function sentencePieceModelFromLlama2c(vocab: Llama2cVocab): SentencePieceModel {
  if (vocab.tokens.length < 3) {
    throw new LenspressError('bad-tokenizer', `a llama2.c vocabulary needs at least <unk>, <s>, </s>; found ${vocab.tokens.length} tokens`);
  }
  let anyByte = false;
  const pieces: SentencePieceEntry[] = vocab.tokens.map(({ text, score }, id): SentencePieceEntry => {
    if (id === 0) return { piece: text, score, type: 'unknown' };
    if (id === 1 || id === 2) return { piece: text.replace(/^\n|\n$/g, ''), score, type: 'control' };
    if (BYTE_PIECE.test(text)) { anyByte = true; return { piece: text, score, type: 'byte' }; }
    return { piece: text.replaceAll(' ', SPACE_SYMBOL), score, type: 'normal' };
  });
  return {
    pieces, modelType: 'bpe', byteFallback: anyByte, splitDigits: true, treatWhitespaceAsSuffix: false,
    unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ',
    normalizer: { name: 'identity', hasPrecompiledCharsmap: false, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
}

/** Rejects what the tokenizer.json below cannot reproduce exactly, rather than tokenizing differently from SentencePiece. */
export function checkSupported(m: SentencePieceModel): void {
  const unsupported = (what: string): never => {
    throw new LenspressError('unsupported-tokenizer', `SentencePiece model: ${what} is not supported (Lenspress supports BPE models with identity normalisation, like llama2.c's and Llama 2's)`);
  };
  if (m.modelType !== 'bpe') unsupported(`model_type ${m.modelType}`);
  if (m.normalizer.hasPrecompiledCharsmap) unsupported(`normalizer "${m.normalizer.name}" with a precompiled character map`);
  if (!m.normalizer.escapeWhitespaces) unsupported('escape_whitespaces = false');
  if (m.treatWhitespaceAsSuffix) unsupported('treat_whitespace_as_suffix');
  const n = m.pieces.length;
  const seen = new Set<string>();
  m.pieces.forEach(({ piece, type }, id) => {
    // SP: user-defined pieces are matched greedily before BPE and unused ones are re-split; neither maps to plain BPE merges.
    if (type === 'user_defined' || type === 'unused') unsupported(`a ${type} piece (id ${id}, ${JSON.stringify(piece)})`);
    if (piece === '') throw new LenspressError('bad-tokenizer', `SentencePiece model: piece ${id} is empty`);
    if (type === 'byte' && !BYTE_PIECE.test(piece)) throw new LenspressError('bad-tokenizer', `SentencePiece model: byte piece ${id} is ${JSON.stringify(piece)}, expected the form <0xXX>`);
    if (seen.has(piece)) throw new LenspressError('bad-tokenizer', `SentencePiece model: piece ${JSON.stringify(piece)} occurs twice (again at id ${id})`);
    seen.add(piece);
  });
  const expectType = (name: string, id: number, types: PieceType[]) => {
    if (!Number.isInteger(id) || id < 0 || id >= n) unsupported(`${name} = ${id} (expected an id below ${n})`);
    if (!types.includes(m.pieces[id].type)) throw new LenspressError('bad-tokenizer', `SentencePiece model: ${name} ${id} is a ${m.pieces[id].type} piece, expected ${types.join(' or ')}`);
  };
  expectType('unk_id', m.unkId, ['unknown']);
  expectType('bos_id', m.bosId, ['control']);
  expectType('eos_id', m.eosId, ['control']);
}

/**
 * BPE merges as transformers' generate_merges (SentencePieceExtractor) builds them: every
 * split l + r of a piece whose halves are pieces, ranked by the merged piece's score (highest
 * first), ties by longer left, then longer right half, then piece ids. SP: only normal pieces
 * take part (Hugging Face also offers byte and control pieces, which SentencePiece never merges).
 */
export function bpeMerges(pieces: readonly SentencePieceEntry[]): [string, string][] {
  const ids = new Map<string, number>();
  pieces.forEach((p, id) => { if (p.type === 'normal') ids.set(p.piece, id); });
  const merges: { l: string; r: string; score: number; lenL: number; lenR: number; id: number; idL: number; idR: number }[] = [];
  pieces.forEach((p, id) => {
    if (p.type !== 'normal') return;
    const chars = Array.from(p.piece); // code points, as BPE's symbols are
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join('');
      const r = chars.slice(k).join('');
      const idL = ids.get(l), idR = ids.get(r);
      if (idL !== undefined && idR !== undefined) merges.push({ l, r, score: p.score, lenL: k, lenR: chars.length - k, id, idL, idR });
    }
  });
  merges.sort((a, b) => b.score - a.score || b.lenL - a.lenL || b.lenR - a.lenR || a.id - b.id || a.idL - b.idL || a.idR - b.idR);
  return merges.map((m) => [m.l, m.r]);
}

/**
 * SentencePiece's normaliser (normalizer.cc) with identity character map: drop leading spaces,
 * squeeze runs of spaces, add the dummy "▁" prefix, escape " " as "▁", then drop trailing "▁"
 * (literal ones too, as SentencePiece does). Anchors are \A and \z: in Oniguruma (and the
 * library's port of it) ^ and $ match at every line break. Prepend runs before the trailing
 * strip so that an all-space input ends up empty, as in SentencePiece, not as a lone "▁".
 */
function normalizers(m: SentencePieceModel): Record<string, unknown>[] {
  const { addDummyPrefix, removeExtraWhitespaces } = m.normalizer;
  const out: Record<string, unknown>[] = [];
  if (removeExtraWhitespaces) {
    out.push({ type: 'Replace', pattern: { Regex: '\\A +' }, content: '' });
    out.push({ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' });
  }
  if (addDummyPrefix) out.push({ type: 'Prepend', prepend: SPACE_SYMBOL });
  out.push({ type: 'Replace', pattern: { String: ' ' }, content: SPACE_SYMBOL });
  if (removeExtraWhitespaces) out.push({ type: 'Replace', pattern: { Regex: `${SPACE_SYMBOL}+\\z` }, content: '' });
  return out;
}

export function buildTokenizerJson(m: SentencePieceModel): { tokenizer: TokenizerJson; config: TokenizerConfigJson } {
  checkSupported(m);
  const unk = m.pieces[m.unkId].piece;
  const bos = m.pieces[m.bosId].piece;
  const eos = m.pieces[m.eosId].piece;
  // Object.fromEntries defines own properties, so a piece named "__proto__" stays a plain key.
  const vocab: Record<string, number> = Object.fromEntries(m.pieces.map((p, id) => [p.piece, id]));
  const decoders: Record<string, unknown>[] = [
    { type: 'Replace', pattern: { String: SPACE_SYMBOL }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
  ];
  // SentencePiece drops the first piece's "▁" when either option could have added it.
  if (m.normalizer.addDummyPrefix || m.normalizer.removeExtraWhitespaces) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  const bosItem = { SpecialToken: { id: bos, type_id: 0 } };
  const tokenizer: TokenizerJson = {
    version: '1.0',
    // SP: LlamaConverter registers <unk>, <s>, </s> as added tokens, which makes the literal
    // text "<s>" encode as BOS. SentencePiece never matches control pieces in text, so they
    // stay plain vocabulary entries (no merges reach them) and are listed as special only in
    // the config, where decode(skip_special_tokens) looks for them.
    added_tokens: [],
    normalizer: { type: 'Sequence', normalizers: normalizers(m) },
    // SP encodes the whole normalised text as one symbol sequence: no pre-tokenizer (split
    // digits needs none either, since the vocabulary has no multi-digit pieces to merge into).
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bosItem, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bosItem, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [m.bosId], tokens: [bos] } },
    },
    decoder: { type: 'Sequence', decoders },
    model: {
      type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: m.byteFallback, ignore_merges: false,
      vocab, merges: bpeMerges(m.pieces),
    },
  };
  const config: TokenizerConfigJson = {
    tokenizer_class: 'LlamaTokenizer',
    bos_token: bos, eos_token: eos, unk_token: unk,
    add_bos_token: true, add_eos_token: false,
    clean_up_tokenization_spaces: false,
    additional_special_tokens: m.pieces.filter((p) => p.type === 'control').map((p) => p.piece),
    legacy: false,
  };
  return { tokenizer, config };
}
