/**
 * Tokenizers of the new formats: the real Mistral 7B v0.1 tokenizer.json through
 * @huggingface/tokenizers; the SentencePiece vocabulary embedded in GGUF files, checked against
 * SentencePiece itself (tok512.model, verified against sentencepiece-js in tokenizer.test.ts),
 * against llama.cpp (node-llama-cpp 3.21.1) and against the Mistral tokenizer.json it was
 * written from.
 */
import { readFileSync } from 'node:fs';
import { getLlama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseGguf } from '../../src/core/formats/gguf.ts';
import { ggufFromModel } from '../../src/core/formats/gguf-model.ts';
import { writeGguf } from '../../src/core/formats/gguf-writer.ts';
import { mulberry32, randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { createTokenizerFromGguf, ggufVocabFromTokenizerJson } from '../../src/core/tokenizer/gguf-tokenizer.ts';
import { createHfTokenizer } from '../../src/core/tokenizer/hf-tokenizer.ts';
import { createTokenizerFromSentencePieceModel } from '../../src/core/tokenizer/load.ts';
import { mistralTokenizerPaths } from '../../src/node/write-checkpoint.ts';
import { readStories, storiesPath } from '../helpers/stories.ts';

const paths = mistralTokenizerPaths();
const mistralJson = readFileSync(paths.tokenizerJson, 'utf8');
const mistral = createHfTokenizer({ tokenizerJson: mistralJson, tokenizerConfig: readFileSync(paths.tokenizerConfig) });

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.\n'
  + 'Lily\'s mom said, "Be careful!" Lily smiled: 3 cats, 12 dogs and 2048 birds ran away…\tThe end.';
/** No leading, trailing or repeated spaces: where SentencePiece with remove_extra_whitespaces and llama.cpp agree. */
const PLAIN = [
  'Tom had a red ball.', 'héllo 万 😀', 'a\nb\tc', 'x\r\ny', '0', '0123456789', '3.14159 + 2,718 = 5.86', '1st 2nd 3rd 100%',
  '!?.,;:\'"()[]{}<>/\\|@#$%^&*-_=+~`', 'Ünïcödé àccénts çà et là', '日本語のテキスト', '中文 汉字 万', '😀🎉👍🏽 family: 👨‍👩‍👧', 'a▁b',
  '<s>hi</s>', '<unk> <0x41>', 'â€™ smart quote mojibake', 'x\u200ay', 'a\u00a0b', 'Ω≈ç√∫', '\ufeffBOM', STORY, STORY.repeat(5),
];
const SPACES = [' ', '   ', '  a  b  ', ' leading', 'trailing ', 'a\n  b', 'two  spaces', '\n\n  indented\n'];

describe('Hugging Face tokenizer.json: the real Mistral 7B v0.1 tokenizer', () => {
  it('gives the published ids', () => {
    expect(mistral.encode('128717593 + 8191493 =')).toEqual([1, 28705, 28740, 28750, 28783, 28787, 28740, 28787, 28782, 28774, 28770, 648, 28705, 28783, 28740, 28774, 28740, 28781, 28774, 28770, 327]);
    expect(mistral.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
    expect(mistral.encode('Elvis Presley', { addBos: false })).toEqual([1744, 3225, 3981, 2047]);
    expect(mistral.encode('Hello')).toEqual([1, 22557]);
  });

  it('vocabulary, special ids, pieces, decoding', () => {
    expect([mistral.vocabSize, mistral.bosId, mistral.eosId]).toEqual([32000, 1, 2]);
    expect(mistral.piece(22557)).toBe('\u2581Hello');
    expect(mistral.piece(13)).toBe('<0x0A>');
    for (const s of [STORY, 'héllo 万 😀', '日本語のテキスト']) expect(mistral.decode(mistral.encode(s))).toBe(s);
    expect(() => mistral.piece(32000)).toThrow(/token id 32000 is not in the vocabulary/);
  });

  it('errors name the file', () => {
    const err = (fn: () => unknown) => { try { fn(); } catch (e) { return e; } return undefined; };
    const e1 = err(() => createHfTokenizer({ tokenizerJson: '{"model": ', names: { tokenizer: 'm/tokenizer.json' } }));
    expect(isLenspressError(e1) && (e1 as Error).message).toMatch(/^m\/tokenizer.json: .*expected a Hugging Face tokenizer JSON object/);
    const e2 = err(() => createHfTokenizer({ tokenizerJson: mistralJson, tokenizerConfig: '{}', names: { config: 'm/tokenizer_config.json' } }));
    expect(isLenspressError(e2) && (e2 as Error).message).toMatch(/^m\/tokenizer_config.json: no bos_token/);
    // with the model's ids to fall back on, a config without bos_token is fine
    expect(createHfTokenizer({ tokenizerJson: mistralJson, tokenizerConfig: '{}', fallbackIds: { bos: 1, eos: 2 } }).bosId).toBe(1);
  });
});

describe('GGUF tokenizer: stories260K.gguf', () => {
  const gguf = createTokenizerFromGguf(parseGguf(readStories('stories260K.gguf'), 'stories260K.gguf'));
  const sp = createTokenizerFromSentencePieceModel(readStories('tok512.model'));
  let llamaTokenize: (s: string) => number[];
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
    const model = await llama.loadModel({ modelPath: storiesPath('stories260K.gguf') });
    llamaTokenize = (s) => model.tokenize(s, false).map(Number);
    dispose = () => model.dispose();
  });
  afterAll(async () => dispose?.());

  /** Random text from tok512's own pieces, single-spaced. */
  const rand = mulberry32(17);
  const RANDOM = Array.from({ length: 200 }, () => Array.from({ length: 1 + Math.floor(rand() * 12) }, () => sp.piece(259 + Math.floor(rand() * 253)).replaceAll('\u2581', ' ')).join('').trim().replace(/ {2,}/g, ' '));

  it('same vocabulary and special ids as tok512.model', () => {
    expect([gguf.vocabSize, gguf.bosId, gguf.eosId]).toEqual([512, 1, 2]);
    for (let id = 0; id < 512; id++) expect(gguf.piece(id)).toBe(sp.piece(id));
  });

  it('tokenizes exactly like tok512.model (SentencePiece) on text without leading, trailing or repeated spaces', () => {
    for (const s of [...PLAIN, ...RANDOM]) expect(gguf.encode(s), JSON.stringify(s)).toEqual(sp.encode(s));
    for (const s of PLAIN) expect(gguf.decode(gguf.encode(s))).toBe(sp.decode(sp.encode(s)));
  });

  it('tokenizes exactly like llama.cpp on every string, whitespace runs included', () => {
    for (const s of [...PLAIN, ...SPACES, ...RANDOM]) expect(gguf.encode(s, { addBos: false }), JSON.stringify(s)).toEqual(llamaTokenize(s));
  });

  it('differs from SentencePiece only where tok512 collapses whitespace (remove_extra_whitespaces), which a GGUF does not record', () => {
    const differ = SPACES.filter((s) => gguf.encode(s).join() !== sp.encode(s).join());
    expect(differ).toEqual(SPACES); // every one of them; e.g. "a  b": SentencePiece ▁a ▁b, llama.cpp ▁a ▁ ▁b
    expect(gguf.encode('a  b', { addBos: false })).toEqual([261, 410, 268]);
    expect(sp.encode('a  b', { addBos: false })).toEqual(sp.encode('a b', { addBos: false }));
  });
});

describe('GGUF tokenizer written from the Mistral tokenizer.json', () => {
  const vocab = ggufVocabFromTokenizerJson(JSON.parse(mistralJson));
  const { metadata, tensors } = ggufFromModel(randomModel(tinyConfig('llama', { n_layers: 1, rope_scaling: null }), 1), 'F32', vocab);
  const gguf = createTokenizerFromGguf(parseGguf(writeGguf(metadata, tensors), 'mistral.gguf'));
  const rand = mulberry32(23);
  const RANDOM = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(rand() * 8) }, () => mistral.piece(259 + Math.floor(rand() * 31741)).replaceAll('\u2581', ' ')).join(''));

  it('keeps pieces (U+FEFF included) and types', () => {
    expect(gguf.vocabSize).toBe(32000);
    expect(gguf.piece(31759)).toBe('\ufeff');
    expect([vocab.types[0], vocab.types[1], vocab.types[2], vocab.types[3], vocab.types[258], vocab.types[259]]).toEqual([2, 3, 3, 6, 6, 1]);
  });

  it('encodes like the tokenizer.json on published, varied and random text, whitespace runs included', () => {
    expect(gguf.encode('128717593 + 8191493 =')).toEqual(mistral.encode('128717593 + 8191493 ='));
    expect(gguf.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
    for (const s of [...PLAIN.filter((p) => !/<s>|<\/s>|<unk>/.test(p)), ...SPACES, ...RANDOM]) expect(gguf.encode(s), JSON.stringify(s)).toEqual(mistral.encode(s));
  });

  it('except the literal texts "<s>", "</s>", "<unk>": added tokens in tokenizer.json, plain text in a GGUF (as in llama.cpp without special parsing)', () => {
    expect(mistral.encode('<s>hi')).toEqual([1, 1, 12014]);
    expect(gguf.encode('<s>hi')[1]).not.toBe(1);
    expect(mistral.encode('<unk>', { addBos: false })).toEqual([0]);
    expect(gguf.encode('<unk>', { addBos: false })).not.toContain(0);
  });
});
