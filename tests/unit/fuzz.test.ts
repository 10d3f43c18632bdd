/**
 * Fuzzing every parser with generated malformed inputs (seeded, so failures reproduce):
 * truncations, flipped bytes, overwritten length/count fields (including huge ones), and
 * random garbage. Each input must either parse or fail with a LenspressError carrying a
 * message — never another exception (a RangeError from allocating an unchecked size, a
 * TypeError from reading past the end), and never a hang (the test's timeout).
 */
import { describe, expect, it } from 'vitest';
import { isLenspressError } from '../../src/core/errors.ts';
import { parseLlama2cCheckpoint } from '../../src/core/formats/llama2c.ts';
import { parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ggufToModel } from '../../src/core/formats/gguf-model.ts';
import { parseHfConfig } from '../../src/core/formats/hf-config.ts';
import { parseSafetensors, readSafetensor } from '../../src/core/formats/safetensors.ts';
import { writeSafetensors } from '../../src/core/formats/safetensors-writer.ts';
import { mulberry32 } from '../../src/core/model/random.ts';
import { createHfTokenizer } from '../../src/core/tokenizer/hf-tokenizer.ts';
import { parseLlama2cVocab } from '../../src/core/tokenizer/llama2c-vocab.ts';
import { parseSentencePieceModel } from '../../src/core/tokenizer/sentencepiece-model.ts';
import { buildTokenizerJson } from '../../src/core/tokenizer/sentencepiece-json.ts';
import { LogitLensProps, parseProps } from '../../src/site/props.ts';
import { readUrlState } from '../../src/browser/figure-tools.ts';
import { readStories } from '../helpers/stories.ts';

const N = 1500;
const rand = mulberry32(20261128);
const int = (n: number) => Math.floor(rand() * n);

/** One malformed variant of `bytes`. */
function mutate(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  switch (int(5)) {
    case 0: // truncate
      return out.subarray(0, int(out.length));
    case 1: // flip a few bytes
      for (let i = 0, n = 1 + int(8); i < n; i++) out[int(out.length)] ^= 1 + int(255);
      return out;
    case 2: {
      // overwrite a 32-bit field near the start with an extreme value (lengths, counts, dims)
      const at = int(Math.min(out.length - 4, 256)) & ~3;
      new DataView(out.buffer).setUint32(at, [0xffffffff, 0x7fffffff, 0x80000000, 0, 1 << 24][int(5)], true);
      return out;
    }
    case 3: {
      // overwrite a 64-bit field (GGUF counts and offsets are u64)
      const at = int(Math.min(out.length - 8, 512));
      new DataView(out.buffer).setBigUint64(at, [0xffffffffffffffffn, 1n << 40n, 1n << 62n][int(3)], true);
      return out;
    }
    default: // garbage of a random length
      return Uint8Array.from({ length: int(300) }, () => int(256));
  }
}

/** A structurally malformed variant of a JSON document: one value somewhere replaced or deleted. */
function mutateJson(doc: unknown): Uint8Array {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  const weird = [null, -1, 1e12, 'x', '', [], {}, [1, 2], true, 2 ** 31];
  let node = copy as Record<string, unknown>;
  for (let depth = 0; depth < 6; depth++) {
    const keys = node && typeof node === 'object' ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const k = keys[int(keys.length)];
    const child = node[k];
    if (rand() < 0.35 || !child || typeof child !== 'object') {
      if (rand() < 0.3) delete node[k];
      else node[k] = weird[int(weird.length)];
      break;
    }
    node = child as Record<string, unknown>;
  }
  return new TextEncoder().encode(JSON.stringify(copy));
}

function fuzz(name: string, seed: Uint8Array, parse: (b: Uint8Array) => unknown, json?: unknown): { tried: number; rejected: number } {
  let rejected = 0;
  for (let i = 0; i < N; i++) {
    const input = json !== undefined && i % 2 === 0 ? mutateJson(json) : mutate(seed);
    try {
      parse(input);
    } catch (e) {
      if (!isLenspressError(e) || !e.message) throw new Error(`${name}: input #${i} (${input.length} bytes) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      rejected++;
    }
  }
  return { tried: N, rejected };
}

const report: Record<string, { tried: number; rejected: number }> = {};

describe(`fuzzing the parsers (${N} malformed inputs each)`, () => {
  it('llama2.c checkpoint', () => {
    report.llama2c = fuzz('llama2c', readStories('stories260K.bin'), (b) => parseLlama2cCheckpoint(b, 'x.bin'));
  });

  it('llama2.c tokenizer', () => {
    report.vocab = fuzz('tokenizer.bin', readStories('tok512.bin'), (b) => parseLlama2cVocab(b, 512));
  });

  it('SentencePiece model', () => {
    report.sentencepiece = fuzz('tokenizer.model', readStories('tok512.model'), (b) => parseSentencePieceModel(b));
  });

  it('GGUF (header, metadata, tensor infos, and reading every tensor)', () => {
    const full = readStories('stories260K.gguf');
    report.gguf = fuzz('gguf', full, (b) => {
      const g = parseGguf(b, 'x.gguf');
      for (const name of g.tensors.keys()) readGgufTensor(g, name);
    });
    report.ggufModel = fuzz('gguf model', full, (b) => ggufToModel(parseGguf(b, 'x.gguf')));
  });

  it('safetensors', () => {
    const seed = writeSafetensors([
      { name: 'a', dtype: 'F32', shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => i) },
      { name: 'b', dtype: 'BF16', shape: [16], data: Float32Array.from({ length: 16 }, (_, i) => i / 3) },
    ]);
    report.safetensors = fuzz('safetensors', seed, (b) => {
      const f = parseSafetensors(b, 'x.safetensors');
      for (const t of f.tensors.keys()) readSafetensor(f, t);
    });
  });

  it('tokenizer.json and config.json (mutated JSON text)', () => {
    // A complete, valid tokenizer.json (tok512's, as built in code) to mutate.
    const tokDoc = buildTokenizerJson(parseSentencePieceModel(readStories('tok512.model'))).tokenizer;
    const tok = new TextEncoder().encode(JSON.stringify(tokDoc));
    report.tokenizerJson = fuzz('tokenizer.json', tok, (b) => createHfTokenizer({ tokenizerJson: b, fallbackIds: { bos: 1, eos: 2 } }).encode('Tom had a red ball 12 é'), tokDoc);
    const cfgDoc = { architectures: ['MistralForCausalLM'], hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 2, vocab_size: 32000, max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: 10000, sliding_window: 16, torch_dtype: 'float32' };
    const cfg = new TextEncoder().encode(JSON.stringify(cfgDoc));
    report.config = fuzz('config.json', cfg, (b) => {
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(b));
      } catch {
        return; // not JSON at all: the loader's JSON step reports that (tested elsewhere)
      }
      parseHfConfig(json);
    }, cfgDoc);
  });

  it('figure props and URL state', () => {
    let tried = 0;
    const values = [undefined, null, '', 'x', '<img src=x onerror=alert(1)>', -1, 0, 1e9, 3.5, true, [], {}, 'model', 'none'];
    const keys = ['prompt', 'norm', 'k', 'state', 'decoder', 'secondary', 'color', 'model', 'id', 'caption', 'bogus'];
    for (let i = 0; i < N; i++) {
      const props = Object.fromEntries(Array.from({ length: int(6) }, () => [keys[int(keys.length)], values[int(values.length)]]));
      tried++;
      try {
        parseProps(LogitLensProps, props, 'LogitLens');
      } catch (e) {
        expect((e as Error).message).toMatch(/^<LogitLens> has invalid props\.\nReceived: .*\nProblems:\n {2}- /s);
      }
      const url = new URL('http://x/a');
      for (let j = 0; j < int(5); j++) url.searchParams.set(`lp.${['f', 'g', ''][int(3)]}.${keys[int(keys.length)]}`, String(values[int(values.length)]));
      const state = readUrlState('f', url);
      for (const v of Object.values(state)) expect(typeof v).toBe('string');
    }
    report.props = { tried, rejected: -1 };
  });

  it('reports how many inputs were tried', () => {
    const total = Object.values(report).reduce((s, r) => s + r.tried, 0);
    console.log(`fuzz: ${total} malformed inputs`, JSON.stringify(report));
    expect(total).toBeGreaterThanOrEqual(N * 9);
  });
});
