/**
 * A minimal, bounds-checked protobuf *reader* for SentencePiece's `ModelProto`
 * (sentencepiece_model.proto). It decodes only the fields the tokenizer needs and skips
 * the rest, so newer SentencePiece versions with extra fields still load. Pure: no DOM,
 * no `node:` imports. Malformed input throws a LenspressError saying what was expected.
 */
import { LenspressError } from '../errors.ts';

/** `SentencePiece.Type` in the proto (NORMAL = 1 … BYTE = 6). */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user_defined' | 'unused' | 'byte';
const PIECE_TYPES: Record<number, PieceType> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user_defined', 5: 'unused', 6: 'byte' };

/** `TrainerSpec.ModelType` in the proto. */
export type SentencePieceModelType = 'unigram' | 'bpe' | 'word' | 'char';
const MODEL_TYPES: Record<number, SentencePieceModelType> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' };

export interface SentencePieceEntry {
  readonly piece: string;
  readonly score: number;
  readonly type: PieceType;
}

export interface SentencePieceNormalizer {
  /** "identity", "nmt_nfkc", …; only "identity" has no character map to apply. */
  readonly name: string;
  readonly hasPrecompiledCharsmap: boolean;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  readonly escapeWhitespaces: boolean;
}

/** The parts of a SentencePiece model the tokenizer needs, with the proto's defaults filled in. */
export interface SentencePieceModel {
  readonly pieces: readonly SentencePieceEntry[];
  readonly modelType: SentencePieceModelType;
  readonly byteFallback: boolean;
  readonly splitDigits: boolean;
  readonly treatWhitespaceAsSuffix: boolean;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** What SentencePiece's decoder prints for the unknown piece (default " ⁇ "). */
  readonly unkSurface: string;
  readonly normalizer: SentencePieceNormalizer;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Reads one message's bytes; sub-messages get their own reader over a bounded subarray. */
class ProtoReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly where: string, private readonly fileName: string) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  fail(code: string, what: string): never {
    throw new LenspressError(code, `${this.fileName}: ${what} (in ${this.where} at byte ${this.pos}); expected a SentencePiece ModelProto (.model file)`);
  }

  /**
   * A varint as its low 32 bits (unsigned) plus whether higher bits were set. int32 fields
   * such as pad_id = -1 are sign-extended to 10 bytes on the wire, so `low | 0` recovers them.
   */
  varint(): { low: number; high: boolean } {
    let low = 0;
    let high = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) this.fail('truncated-file', 'the file ends inside a varint');
      const b = this.bytes[this.pos++];
      const payload = b & 0x7f;
      const shift = 7 * i;
      if (shift < 32) {
        low = (low | (payload << shift)) >>> 0;
        if (shift + 7 > 32 && payload >>> (32 - shift) !== 0) high = true;
      } else if (payload !== 0) {
        high = true;
      }
      if ((b & 0x80) === 0) return { low, high };
    }
    return this.fail('bad-tokenizer', 'a varint longer than 10 bytes');
  }

  /** Next field tag, validated: field numbers start at 1; groups (wire types 3, 4) are not used by SentencePiece. */
  tag(): { field: number; wire: number } {
    const { low, high } = this.varint();
    const field = low >>> 3;
    const wire = low & 7;
    if (high || field === 0) this.fail('bad-tokenizer', `an invalid field tag ${low}`);
    if (wire !== WIRE_VARINT && wire !== WIRE_FIXED64 && wire !== WIRE_LEN && wire !== WIRE_FIXED32) {
      this.fail('bad-tokenizer', `unsupported wire type ${wire} for field ${field}`);
    }
    return { field, wire };
  }

  expectWire(field: number, wire: number, expected: number): void {
    if (wire !== expected) this.fail('bad-tokenizer', `field ${field} has wire type ${wire}, expected ${expected}`);
  }

  int32(): number {
    return this.varint().low | 0;
  }

  bool(): boolean {
    const { low, high } = this.varint();
    return low !== 0 || high;
  }

  /** A length-delimited payload; the length is checked against the bytes left before slicing. */
  lengthDelimited(): Uint8Array {
    const { low, high } = this.varint();
    const left = this.bytes.length - this.pos;
    if (high || low > left) this.fail('truncated-file', `a length-delimited field of ${high ? 'over 2^32' : low} bytes, but only ${left} bytes remain`);
    const out = this.bytes.subarray(this.pos, this.pos + low);
    this.pos += low;
    return out;
  }

  string(): string {
    const raw = this.lengthDelimited();
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      return this.fail('bad-tokenizer', 'a string field that is not valid UTF-8');
    }
  }

  float32(): number {
    if (this.bytes.length - this.pos < 4) this.fail('truncated-file', 'the file ends inside a float');
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.lengthDelimited();
    else {
      const n = wire === WIRE_FIXED64 ? 8 : 4;
      if (this.bytes.length - this.pos < n) this.fail('truncated-file', `the file ends inside a ${n}-byte field`);
      this.pos += n;
    }
  }

  sub(where: string): ProtoReader {
    return new ProtoReader(this.lengthDelimited(), where, this.fileName);
  }
}

function readPiece(r: ProtoReader, index: number): SentencePieceEntry {
  let piece: string | undefined;
  let score = 0;
  let type: PieceType = 'normal'; // proto default
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expectWire(field, wire, WIRE_LEN); piece = r.string(); }
    else if (field === 2) { r.expectWire(field, wire, WIRE_FIXED32); score = r.float32(); }
    else if (field === 3) {
      r.expectWire(field, wire, WIRE_VARINT);
      const code = r.int32();
      const t = PIECE_TYPES[code];
      if (t === undefined) r.fail('bad-tokenizer', `piece ${index} has unknown type ${code} (expected 1–6)`);
      type = t;
    } else r.skip(wire);
  }
  if (piece === undefined) r.fail('bad-tokenizer', `piece ${index} has no piece string`);
  return { piece, score, type };
}

export function parseSentencePieceModel(bytes: Uint8Array, fileName = 'tokenizer.model'): SentencePieceModel {
  const top = new ProtoReader(bytes, 'ModelProto', fileName);
  const pieces: SentencePieceEntry[] = [];
  // Defaults are those of sentencepiece_model.proto, so absent fields mean what SentencePiece means.
  let modelType: SentencePieceModelType = 'unigram';
  let byteFallback = false, splitDigits = false, treatWhitespaceAsSuffix = false;
  let unkId = 0, bosId = 1, eosId = 2, padId = -1;
  let unkSurface = ' \u2047 ';
  let name = 'nmt_nfkc', hasPrecompiledCharsmap = false;
  let addDummyPrefix = true, removeExtraWhitespaces = true, escapeWhitespaces = true;

  while (!top.done) {
    const { field, wire } = top.tag();
    if (field === 1) {
      top.expectWire(field, wire, WIRE_LEN);
      pieces.push(readPiece(top.sub(`piece ${pieces.length}`), pieces.length));
    } else if (field === 2) {
      top.expectWire(field, wire, WIRE_LEN);
      const r = top.sub('trainer_spec');
      while (!r.done) {
        const t = r.tag();
        const f = t.field;
        const isVarint = f === 3 || f === 24 || f === 25 || f === 35 || (f >= 40 && f <= 43);
        if (isVarint) r.expectWire(f, t.wire, WIRE_VARINT);
        if (f === 3) {
          const code = r.int32();
          const m = MODEL_TYPES[code];
          if (m === undefined) r.fail('bad-tokenizer', `unknown model_type ${code} (expected 1–4)`);
          modelType = m;
        } else if (f === 24) treatWhitespaceAsSuffix = r.bool();
        else if (f === 25) splitDigits = r.bool();
        else if (f === 35) byteFallback = r.bool();
        else if (f === 40) unkId = r.int32();
        else if (f === 41) bosId = r.int32();
        else if (f === 42) eosId = r.int32();
        else if (f === 43) padId = r.int32();
        else if (f === 44) { r.expectWire(f, t.wire, WIRE_LEN); unkSurface = r.string(); }
        else r.skip(t.wire);
      }
    } else if (field === 3) {
      top.expectWire(field, wire, WIRE_LEN);
      const r = top.sub('normalizer_spec');
      while (!r.done) {
        const t = r.tag();
        const f = t.field;
        if (f === 1) { r.expectWire(f, t.wire, WIRE_LEN); name = r.string(); }
        else if (f === 2) { r.expectWire(f, t.wire, WIRE_LEN); hasPrecompiledCharsmap = r.lengthDelimited().length > 0; }
        else if (f === 3) { r.expectWire(f, t.wire, WIRE_VARINT); addDummyPrefix = r.bool(); }
        else if (f === 4) { r.expectWire(f, t.wire, WIRE_VARINT); removeExtraWhitespaces = r.bool(); }
        else if (f === 5) { r.expectWire(f, t.wire, WIRE_VARINT); escapeWhitespaces = r.bool(); }
        else r.skip(t.wire);
      }
    } else {
      top.skip(wire);
    }
  }

  if (pieces.length === 0) {
    throw new LenspressError('bad-tokenizer', `${fileName}: no vocabulary pieces found; expected a SentencePiece ModelProto (.model file)`);
  }
  return {
    pieces, modelType, byteFallback, splitDigits, treatWhitespaceAsSuffix, unkId, bosId, eosId, padId, unkSurface,
    normalizer: { name, hasPrecompiledCharsmap, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces },
  };
}
