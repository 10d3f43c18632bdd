/**
 * A Hugging Face tokenizer folder (tokenizer.json + tokenizer_config.json) as a TextTokenizer,
 * through @huggingface/tokenizers (the JS port of `tokenizers`). Encoding is exactly what the
 * files say, including the post-processor: `addBos` maps to `add_special_tokens` (Llama and
 * Mistral's TemplateProcessing prepends <s>; tokenizers without a BOS template add nothing).
 * Decoding skips special tokens, as SentencePiece drops control pieces.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { LenspressError } from '../errors.ts';
import type { EncodeOptions, TextTokenizer } from './tokenizer.ts';

function parseJson(bytes: Uint8Array | string, fileName: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new LenspressError('bad-tokenizer', `${fileName}: ${(e as Error).message}; expected a Hugging Face tokenizer JSON object`);
  }
}

/** tokenizer_config's bos_token/eos_token: a string or an AddedToken object {content}. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export interface HfTokenizerFiles {
  tokenizerJson: Uint8Array | string;
  tokenizerConfig?: Uint8Array | string | null;
  /** Names for messages. */
  names?: { tokenizer?: string; config?: string };
  /** BOS/EOS ids when tokenizer_config.json does not name them (from the model's config.json). */
  fallbackIds?: { bos: number; eos: number };
}

export class HfTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly hf: Tokenizer;
  private readonly tokName: string;

  constructor(files: HfTokenizerFiles) {
    const tokName = files.names?.tokenizer ?? 'tokenizer.json';
    const cfgName = files.names?.config ?? 'tokenizer_config.json';
    const tok = parseJson(files.tokenizerJson, tokName);
    const cfg = files.tokenizerConfig ? parseJson(files.tokenizerConfig, cfgName) : {};
    this.tokName = tokName;
    let vocab: Map<string, number>;
    try {
      this.hf = new Tokenizer(tok, cfg);
      vocab = this.hf.get_vocab(true);
      // A structurally broken tokenizer.json can load and then fail on first use (the
      // library reads parts lazily): try it once now, so the error names the file.
      this.hf.encode('Aa 1.', { add_special_tokens: true });
    } catch (e) {
      throw new LenspressError('unsupported-tokenizer', `${tokName}: @huggingface/tokenizers cannot load it (${(e as Error).message}); expected a Hugging Face tokenizer.json`);
    }
    let max = -1;
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const id = (key: 'bos_token' | 'eos_token', fallback: number | undefined): number => {
      const content = tokenContent(cfg[key]);
      const found = content !== undefined ? this.hf.token_to_id(content) : undefined;
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      throw new LenspressError('bad-tokenizer', `${cfgName}: no ${key} naming a token of ${tokName}; expected e.g. "${key === 'bos_token' ? '<s>' : '</s>'}"`);
    };
    this.bosId = id('bos_token', files.fallbackIds?.bos);
    this.eosId = id('eos_token', files.fallbackIds?.eos);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    try {
      return this.hf.encode(text, { add_special_tokens: opts.addBos ?? true }).ids;
    } catch (e) {
      throw new LenspressError('bad-tokenizer', `${this.tokName}: the tokenizer failed on this text (${(e as Error).message})`);
    }
  }

  decode(ids: readonly number[]): string {
    ids.forEach((i) => this.checkId(i));
    return this.hf.decode([...ids], { skip_special_tokens: true });
  }

  piece(id: number): string {
    return this.hf.id_to_token(this.checkId(id)) ?? '';
  }

  private checkId(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new LenspressError('bad-token-id', `token id ${id} is not in the vocabulary (expected an integer 0…${this.vocabSize - 1})`);
    }
    return id;
  }
}

export function createHfTokenizer(files: HfTokenizerFiles): TextTokenizer {
  return new HfTextTokenizer(files);
}
