/**
 * The stories260K tokenizer (tok512) through @huggingface/tokenizers must give SentencePiece's
 * ids. The oracle is the real SentencePiece compiled to wasm (sentencepiece-js). Model files
 * are read from LENSPRESS_MODELS (default ../shared/models, relative to the project root).
 */
import { mulberry32 } from '../../src/core/model/random.ts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseLlama2cVocab } from '../../src/core/tokenizer/llama2c-vocab.ts';
import { createTokenizerFromLlama2cVocab, createTokenizerFromSentencePieceModel } from '../../src/core/tokenizer/load.ts';
import { buildTokenizerJson, sentencePieceModelFromLlama2c } from '../../src/core/tokenizer/sentencepiece-json.ts';
import { parseSentencePieceModel } from '../../src/core/tokenizer/sentencepiece-model.ts';
import { displayPiece, type TextTokenizer } from '../../src/core/tokenizer/tokenizer.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(resolve(root, process.env.LENSPRESS_MODELS ?? '../shared/models'), 'stories260K');
const modelBytes = new Uint8Array(readFileSync(join(dir, 'tok512.model')));
const binBytes = new Uint8Array(readFileSync(join(dir, 'tok512.bin')));
const VOCAB = 512;

interface Spp { load(path: string): Promise<void>; encodeIds(text: string): number[]; decodeIds(ids: number[]): string }
let spp: Spp;
const fromModel = createTokenizerFromSentencePieceModel(modelBytes);
const fromBin = createTokenizerFromLlama2cVocab(binBytes, VOCAB);
const sources: [string, TextTokenizer][] = [['.model', fromModel], ['.bin', fromBin]];

beforeAll(async () => {
  // sentencepiece-js is CommonJS without types.
  const { SentencePieceProcessor } = createRequire(import.meta.url)('sentencepiece-js') as { SentencePieceProcessor: new () => Spp };
  spp = new SentencePieceProcessor();
  await spp.load(join(dir, 'tok512.model'));
});

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. '
  + 'One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n\n'
  + 'Lily\'s mom said, "Be careful!" Lily smiled: 3 cats, 12 dogs and 2048 birds ran away…\tThe end.\n';

const FIXED = [
  '', ' ', '   ', '\n', '\t', '  a  b  ', 'Tom had a red ball.', 'héllo 万 😀', 'a\n b\t\tc', 'a\n  b',
  ' leading', 'trailing ', '  both  ', 'x\r\ny', '0', '0123456789', '3.14159 + 2,718 = 5.86', '1st 2nd 3rd 100%',
  '!?.,;:\'"()[]{}<>/\\|@#$%^&*-_=+~`', 'Ünïcödé àccénts çà et là', '日本語のテキスト', '中文 汉字 万', '😀🎉👍🏽 family: 👨‍👩‍👧',
  'a▁b', '▁ a', 'a ▁', '<s>hi</s>', '<unk> <0x41>', 'â€™ smart quote mojibake', 'x\u200ay', 'a\u00a0b', 'Ω≈ç√∫',
  STORY, STORY.repeat(20),
];


// Whole words exercise long merges; the rest covers spaces, digits, punctuation, byte fallback
// (accents, CJK, emoji), SentencePiece's own symbols and look-alikes of special pieces.
const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'.,!?;:\'"()-_/\\<>[]{}|~%™',
  ' ', ' ', ' ', '  ', '   ', '\n', '\t', '\r',
  'the', ' the', 'was', ' and', 'Lily', ' happy', 'ing', 'ed', 'Tom',
  'é', 'ü', 'ñ', 'ç', 'Å', 'ß', '万', '中', '文', '日', '😀', '🎉', '👍🏽', 'â€', '\u200a', '\u00a0', '\u3000', '▁', '<s>', '</s>', '<0x41>', '<unk>',
];
const rand = mulberry32(260);
const RANDOM = Array.from({ length: 1000 }, () => {
  const n = Math.floor(rand() * 40);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
});

describe('tok512 encode equals SentencePiece', () => {
  it('matches the documented examples', () => {
    for (const [, tok] of sources) {
      expect(tok.encode('  a  b  ', { addBos: false })).toEqual([261, 268]);
      expect(tok.encode('Tom had a red ball.')).toEqual([1, 274, 287, 381, 261, 352, 266, 268, 388, 426]);
      expect(tok.encode('')).toEqual([1]);
      expect(tok.encode('', { addBos: false })).toEqual([]);
      expect([tok.vocabSize, tok.bosId, tok.eosId]).toEqual([512, 1, 2]);
    }
  });

  it.each(sources)('fixed cases, from %s', (_name, tok) => {
    for (const text of FIXED) {
      const want = spp.encodeIds(text);
      expect(tok.encode(text, { addBos: false }), JSON.stringify(text)).toEqual(want);
      expect(tok.encode(text)).toEqual([1, ...want]);
    }
  });

  it.each(sources)(`${RANDOM.length} seeded random strings, from %s`, (_name, tok) => {
    for (const text of RANDOM) expect(tok.encode(text, { addBos: false }), JSON.stringify(text)).toEqual(spp.encodeIds(text));
  });

  it('the generated tokenizer.json survives JSON serialisation', () => {
    const { tokenizer, config } = buildTokenizerJson(parseSentencePieceModel(modelBytes));
    const reloaded = new Tokenizer(JSON.parse(JSON.stringify(tokenizer)), JSON.parse(JSON.stringify(config)));
    for (const text of [...FIXED, ...RANDOM.slice(0, 200)]) {
      expect(reloaded.encode(text, { add_special_tokens: false }).ids).toEqual(spp.encodeIds(text));
    }
  });

  it('both sources give the same vocabulary', () => {
    for (let id = 0; id < VOCAB; id++) expect(fromBin.piece(id)).toBe(fromModel.piece(id));
    expect([fromModel.piece(1), fromModel.piece(13), fromModel.piece(381)]).toEqual(['<s>', '<0x0A>', '▁had']);
  });
});

describe('tok512 decode equals SentencePiece', () => {
  it.each(sources)('decode(encode(text)) for fixed and random strings, from %s', (_name, tok) => {
    for (const text of [...FIXED, ...RANDOM]) {
      expect(tok.decode(tok.encode(text)), JSON.stringify(text)).toBe(spp.decodeIds(spp.encodeIds(text)));
    }
    expect(tok.decode([])).toBe('');
  });

  it('arbitrary id sequences (control, byte pieces, invalid UTF-8)', () => {
    const r = mulberry32(512);
    for (let k = 0; k < 500; k++) {
      // Bias towards byte pieces (3…258) so that broken UTF-8 sequences are common.
      const ids = Array.from({ length: Math.floor(r() * 12) }, () => (r() < 0.5 ? 3 + Math.floor(r() * 256) : Math.floor(r() * VOCAB)));
      const want = spp.decodeIds(ids);
      expect(fromModel.decode(ids), JSON.stringify(ids)).toBe(want);
      // The .bin does not store tok512's (oddly escaped) unk_surface, so <unk> is left out there.
      if (!ids.includes(0)) expect(fromBin.decode(ids)).toBe(want);
    }
  });

  it('the tokenizer.json decoder chain agrees on natural text', () => {
    const { tokenizer, config } = buildTokenizerJson(parseSentencePieceModel(modelBytes));
    const hf = new Tokenizer(tokenizer, config);
    for (const text of FIXED.filter((t) => !t.includes('▁') && t.trim() !== '')) {
      const ids = spp.encodeIds(text);
      expect(hf.decode([1, ...ids], { skip_special_tokens: true }), JSON.stringify(text)).toBe(spp.decodeIds(ids));
    }
  });

  it('rejects ids outside the vocabulary', () => {
    for (const bad of [-1, VOCAB, 1.5, NaN]) {
      expect(() => fromModel.decode([bad])).toThrow(/not in the vocabulary/);
      expect(() => fromModel.piece(bad)).toThrow(/not in the vocabulary/);
    }
  });
});

describe('displayPiece', () => {
  it('is readable and never empty', () => {
    expect(displayPiece('▁red')).toBe('▁red');
    expect(displayPiece('<0x0A>')).toBe('\\n');
    expect(displayPiece('<0x09>')).toBe('\\t');
    expect(displayPiece('<0x20>')).toBe('\\x20');
    expect(displayPiece('<0x41>')).toBe('A');
    expect(displayPiece('<0xE4>')).toBe('<0xE4>');
    expect(displayPiece('<s>')).toBe('<s>');
    expect(displayPiece('\u200a')).toBe('\\u200A');
    expect(displayPiece('')).toBe('∅');
    for (let id = 0; id < VOCAB; id++) expect(displayPiece(fromModel.piece(id)).length).toBeGreaterThan(0);
  });
});

/** Runs `f` and returns its LenspressError code, 'ok' if it did not throw; any other error fails the test. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!isLenspressError(e)) throw e;
    return e.code;
  }
}

describe('malformed tokenizer files give LenspressError', () => {
  it('.bin: truncated, wrong vocabSize, bad lengths, bad UTF-8', () => {
    const withInt32 = (offset: number, v: number) => { const b = binBytes.slice(); new DataView(b.buffer).setInt32(offset, v, true); return b; };
    expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes.subarray(0, 2), VOCAB))).toBe('truncated-file');
    expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes.subarray(0, binBytes.length - 1), VOCAB))).toBe('truncated-file');
    expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes.subarray(0, 5000), VOCAB))).toBe('truncated-file');
    expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes, VOCAB + 1))).toBe('truncated-file');
    expect(() => createTokenizerFromLlama2cVocab(binBytes, VOCAB - 1)).toThrow(/vocabulary size does not match/);
    // A huge vocabSize is rejected before anything is allocated for it.
    expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes, 2 ** 40))).toBe('truncated-file');
    for (const v of [0, -3, 1.5, NaN]) expect(outcome(() => createTokenizerFromLlama2cVocab(binBytes, v))).toBe('bad-tokenizer');
    expect(outcome(() => createTokenizerFromLlama2cVocab(withInt32(0, 0), VOCAB))).toBe('bad-tokenizer'); // max_token_length
    expect(outcome(() => createTokenizerFromLlama2cVocab(withInt32(8, -5), VOCAB))).toBe('bad-tokenizer'); // token 0 length < 0
    expect(outcome(() => createTokenizerFromLlama2cVocab(withInt32(8, 1000), VOCAB))).toBe('bad-tokenizer'); // > max_token_length
    expect(outcome(() => createTokenizerFromLlama2cVocab(withInt32(8, 6), VOCAB))).toBe('bad-tokenizer'); // shifts every later token
    const badUtf8 = binBytes.slice();
    badUtf8[12] = 0xff; // first byte of "<unk>"
    expect(outcome(() => createTokenizerFromLlama2cVocab(badUtf8, VOCAB))).toBe('bad-tokenizer');
    expect(parseLlama2cVocab(binBytes, VOCAB).maxTokenLength).toBe(7);
  });

  it('.model: every truncation is an error, except at the one message boundary before normalizer_spec', () => {
    let accepted = 0;
    for (let cut = 0; cut < modelBytes.length; cut++) {
      if (outcome(() => createTokenizerFromSentencePieceModel(modelBytes.subarray(0, cut))) === 'ok') accepted++;
    }
    expect(accepted).toBe(1);
    expect(outcome(() => createTokenizerFromSentencePieceModel(modelBytes.subarray(0, 100)))).toBe('truncated-file');
    expect(outcome(() => createTokenizerFromSentencePieceModel(new Uint8Array(0)))).toBe('bad-tokenizer');
  });

  it('.model: bad lengths, tags and piece types', () => {
    const patched = (offset: number, ...values: number[]) => { const b = modelBytes.slice(); b.set(values, offset); return b; };
    // Bytes 0–1 are the first piece's tag (0x0a) and length; 2–3 the piece string's tag and length.
    expect([modelBytes[0], modelBytes[2]]).toEqual([0x0a, 0x0a]);
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(1, 0xff, 0xff, 0xff, 0xff, 0x0f)))).toBe('truncated-file');
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)))).toBe('bad-tokenizer');
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(0, 0x0b)))).toBe('bad-tokenizer'); // wire type 3 (group)
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(0, 0x08)))).toBe('bad-tokenizer'); // field 1 as a varint
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(3, 0x7f)))).toBe('truncated-file'); // piece string too long
    expect(outcome(() => createTokenizerFromSentencePieceModel(patched(4, 0xff)))).toBe('bad-tokenizer'); // "<unk>" not UTF-8
    expect(outcome(() => createTokenizerFromSentencePieceModel(Uint8Array.of(0x00, 0x01)))).toBe('bad-tokenizer'); // field 0
  });

  it('random corruption never escapes as a non-Lenspress error', () => {
    const r = mulberry32(7);
    for (let k = 0; k < 300; k++) {
      const m = modelBytes.slice();
      const b = binBytes.slice();
      for (let j = 0; j < 3; j++) {
        m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
        b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      }
      outcome(() => createTokenizerFromSentencePieceModel(m));
      outcome(() => createTokenizerFromLlama2cVocab(b, VOCAB));
    }
  });

  it('unsupported SentencePiece settings are refused, not approximated', () => {
    const base = parseSentencePieceModel(modelBytes);
    const refuse = (m: typeof base) => outcome(() => buildTokenizerJson(m));
    expect(refuse({ ...base, modelType: 'unigram' })).toBe('unsupported-tokenizer');
    expect(refuse({ ...base, normalizer: { ...base.normalizer, hasPrecompiledCharsmap: true } })).toBe('unsupported-tokenizer');
    expect(refuse({ ...base, pieces: base.pieces.map((p, i) => (i === 300 ? { ...p, type: 'user_defined' as const } : p)) })).toBe('unsupported-tokenizer');
    expect(refuse({ ...base, pieces: base.pieces.map((p, i) => (i === 300 ? { ...p, piece: '▁t' } : p)) })).toBe('bad-tokenizer');
    expect(refuse({ ...base, bosId: -1 })).toBe('unsupported-tokenizer');
    expect(refuse(sentencePieceModelFromLlama2c(parseLlama2cVocab(binBytes, VOCAB)))).toBe('ok');
  });
});

describe('a piece that is exactly U+FEFF (Mistral has one: id 31759)', () => {
  it('survives the llama2.c vocabulary parser', async () => {
    const { parseLlama2cVocab } = await import('../../src/core/tokenizer/llama2c-vocab.ts');
    const pieces = ['<unk>', '<s>', '\ufeff'];
    const enc = new TextEncoder();
    const parts: number[] = [];
    const push32 = (v: number, f = false) => {
      const b = new DataView(new ArrayBuffer(4));
      if (f) b.setFloat32(0, v, true);
      else b.setInt32(0, v, true);
      parts.push(...new Uint8Array(b.buffer));
    };
    push32(8); // max_token_length
    for (const p of pieces) {
      const bytes = enc.encode(p);
      push32(0, true);
      push32(bytes.length);
      parts.push(...bytes);
    }
    const vocab = parseLlama2cVocab(Uint8Array.from(parts), 3);
    expect(vocab.tokens[2].text).toBe('\ufeff');
  });
});
