/**
 * The tokenizer interface the rest of Lenspress uses, and how pieces are shown in figures.
 * Implementations live in load.ts; ids always equal SentencePiece's for the same text.
 */

export interface EncodeOptions {
  /** Prepend the BOS id (default true), as llama2.c and Hugging Face Llama do. */
  addBos?: boolean;
}

export interface TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  encode(text: string, opts?: EncodeOptions): number[];
  /** Plain text, as SentencePiece decodes: control pieces vanish, byte pieces join into UTF-8. */
  decode(ids: readonly number[]): string;
  /** The raw vocabulary piece, e.g. "▁red", "<0x0A>", "<s>". */
  piece(id: number): string;
}

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;
const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
/** Characters that would be invisible or break a figure's layout; "▁" is deliberately not among them. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}]/u;

function escapeChar(ch: string): string {
  if (NAMED[ch] !== undefined) return NAMED[ch];
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x100) return `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
  return cp <= 0xffff ? `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}` : `\\u{${cp.toString(16).toUpperCase()}}`;
}

/**
 * A readable, never-empty label for a piece in figures:
 * - "▁" stays visible as is ("▁red"), so word starts show;
 * - a byte piece for an ASCII byte shows that character, escaped if invisible
 *   ("<0x0A>" → "\n" written as backslash-n, "<0x20>" → "\x20", "<0x41>" → "A");
 *   bytes 0x80–0xFF stay "<0xE4>", since a lone byte of a multi-byte character is no character;
 * - invisible characters inside other pieces (controls, format characters, spaces other than
 *   "▁", e.g. U+200A) are escaped JavaScript-style ("\u200A");
 * - control pieces ("<s>") stay as they are; an empty piece shows as "∅".
 */
export function displayPiece(piece: string): string {
  const byte = BYTE_PIECE.exec(piece);
  if (byte) {
    const value = parseInt(byte[1], 16);
    if (value >= 0x80) return piece;
    const ch = String.fromCharCode(value);
    return INVISIBLE.test(ch) ? escapeChar(ch) : ch;
  }
  if (piece === '') return '\u2205';
  let out = '';
  for (const ch of piece) out += INVISIBLE.test(ch) ? escapeChar(ch) : ch;
  return out;
}
