/**
 * GGUF v3 reader (ggml's docs/gguf.md; gguf-py/gguf/gguf_reader.py). Layout, little-endian:
 * magic "GGUF", uint32 version, uint64 tensor_count, uint64 kv_count; kv_count × (string key,
 * uint32 value type, value); tensor_count × (string name, uint32 n_dims, n_dims × uint64 ne,
 * uint32 ggml type, uint64 offset); padding to `general.alignment` (default 32); the data
 * section, each tensor at its offset. Strings are uint64 length + UTF-8 bytes; arrays are
 * uint32 element type + uint64 count + elements.
 *
 * ne[] lists dimensions fastest-first (ne[0] = columns): a PyTorch [rows, cols] matrix has
 * ne = [cols, rows]; `shape` below is ne reversed, so the data is row-major in that shape.
 *
 * Every count and length is checked against the bytes left before anything is allocated.
 * Files over 2 GiB (a Q4_0 Mistral 7B is 4.1 GB): `openGguf` parses the header from a prefix of
 * a ByteSource (./byte-source.ts), grown until the header fits, then reads each tensor's bytes
 * into its own buffer; `parseGguf` reads a file already in memory. Both give the same GgufFile.
 * Memory: F32 tensors are views into the file's bytes; the others are dequantised into new
 * float32 arrays (a Q4_0 model held as float32 takes ~7× its file size), except where
 * readGgufQuantized keeps Q8_0/Q4_0/Q4_K blocks as they are (views into the file's bytes).
 * Tensors F32, F16, BF16, Q8_0 and Q4_0 dequantise to float32 (ggml-quants.c
 * dequantize_row_q8_0 / q4_0: blocks of 32; Q8_0 = f16 d + 32 int8, x = q·d; Q4_0 = f16 d +
 * 16 bytes, element j < 16 in the low nibble of byte j and element j + 16 in its high
 * nibble, x = (q − 8)·d). K-quants Q4_K and Q6_K (super-blocks of 256; ./k-quants.ts) are
 * dequantised to float32 by readGgufTensor: 4 bytes a value, ~7× (Q4_K) or ~4.9× (Q6_K) their
 * size; Q4_K projections are kept as blocks through readGgufQuantized instead.
 */
import { LenspressError } from '../errors.ts';
import { f16Lookup } from './half.ts';
import { type ByteSource, type HeldBytes, readRanges, wholeFile } from './byte-source.ts';
import { type QuantizedMatrix, type QuantType, quantizedMatrix } from '../model/quantized.ts';
import { QK_K, dequantizeQ4K, dequantizeQ6K } from './k-quants.ts';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** ggml_type ids and names (ggml.h), with block size and bytes per block where this reader knows them. */
export const GGML_TYPES: Record<number, { name: string; block?: number; bytes?: number }> = {
  0: { name: 'F32', block: 1, bytes: 4 }, 1: { name: 'F16', block: 1, bytes: 2 }, 2: { name: 'Q4_0', block: 32, bytes: 18 },
  3: { name: 'Q4_1', block: 32, bytes: 20 }, 6: { name: 'Q5_0', block: 32, bytes: 22 }, 7: { name: 'Q5_1', block: 32, bytes: 24 },
  8: { name: 'Q8_0', block: 32, bytes: 34 }, 9: { name: 'Q8_1', block: 32, bytes: 36 }, 10: { name: 'Q2_K', block: 256, bytes: 84 },
  11: { name: 'Q3_K', block: 256, bytes: 110 }, 12: { name: 'Q4_K', block: 256, bytes: 144 }, 13: { name: 'Q5_K', block: 256, bytes: 176 },
  14: { name: 'Q6_K', block: 256, bytes: 210 }, 15: { name: 'Q8_K', block: 256, bytes: 292 }, 16: { name: 'IQ2_XXS' }, 17: { name: 'IQ2_XS' },
  18: { name: 'IQ3_XXS' }, 19: { name: 'IQ1_S' }, 20: { name: 'IQ4_NL' }, 21: { name: 'IQ3_S' }, 22: { name: 'IQ2_S' }, 23: { name: 'IQ4_XS' },
  24: { name: 'I8', block: 1, bytes: 1 }, 25: { name: 'I16', block: 1, bytes: 2 }, 26: { name: 'I32', block: 1, bytes: 4 },
  27: { name: 'I64', block: 1, bytes: 8 }, 28: { name: 'F64', block: 1, bytes: 8 }, 29: { name: 'IQ1_M' }, 30: { name: 'BF16', block: 1, bytes: 2 },
};
export const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 } as const;
export const READABLE_GGML = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'];

/** gguf_type (value types of metadata). */
export const GGUF_VALUE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;
const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const MAX_DIMS = 4; // GGML_MAX_DIMS
const MAX_NESTING = 4;

export interface GgufTensorInfo {
  name: string;
  /** Fastest-first, as stored. */
  ne: number[];
  /** ne reversed: row-major, slowest first (PyTorch order). */
  shape: number[];
  type: number;
  typeName: string;
  /** Absolute byte offset in the file. */
  offset: number;
  /** Bytes of data, when the type's block layout is known. */
  nbytes: number | undefined;
}

/** A GGUF file's header: its metadata and tensor list, no tensor bytes. */
export type GgufHeader = Omit<GgufFile, 'data'>;

export interface GgufFile {
  fileName: string;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
  /** The file's length in bytes. */
  size: number;
  /** The tensors' bytes: the whole file (parseGguf) or each readable tensor's range (openGguf). */
  data: HeldBytes;
}

/** The header runs past the prefix read so far (openGguf reads more); never thrown for a whole file. */
class NeedMore {
  constructor(readonly upTo: number) {}
}

/** Largest header openGguf reads (Llama 3's 128k-token vocabulary takes ~10 MB). */
export const MAX_GGUF_HEADER_BYTES = 512 * 2 ** 20;

class Reader {
  pos = 0;
  private readonly view: DataView;
  // ignoreBOM: a piece can be U+FEFF itself (Mistral's id 31759), which the default decoder would strip
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** `bytes` is the whole file or a prefix of a file of `fileSize` bytes. */
  constructor(readonly bytes: Uint8Array, readonly fileName: string, readonly fileSize = bytes.byteLength) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Bytes left in the file (not the prefix): the bound for counts and lengths. */
  get left(): number {
    return this.fileSize - this.pos;
  }
  fail(code: string, msg: string): never {
    throw new LenspressError(code, `${this.fileName}: ${msg} (at byte ${this.pos}); expected a GGUF v3 file`);
  }
  need(n: number, what: string): void {
    if (n > this.left) this.fail('truncated-file', `the file ends inside ${what}: ${n} bytes needed, ${this.left} left`);
    if (this.pos + n > this.bytes.byteLength) throw new NeedMore(this.pos + n);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A uint64 as a number; `cap` bounds it (counts and lengths are compared with the bytes left). */
  count(what: string, cap: number): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(cap)) this.fail('bad-header', `${what} is ${v}, more than the ${cap} the rest of the file could hold`);
    return Number(v);
  }
  string(what: string): string {
    const n = this.count(`the length of ${what}`, this.left - 8);
    this.need(n, what);
    const raw = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return this.utf8.decode(raw);
    } catch {
      return this.fail('bad-header', `${what} is not valid UTF-8`);
    }
  }
  value(type: number, what: string, depth = 0): GgufValue {
    const v = this.view;
    if (type === GGUF_VALUE.STRING) return this.string(what);
    if (type === GGUF_VALUE.ARRAY) {
      if (depth >= MAX_NESTING) this.fail('bad-header', `${what} nests arrays more than ${MAX_NESTING} deep`);
      const et = this.u32(`the element type of ${what}`);
      const min = et === GGUF_VALUE.STRING ? 8 : et === GGUF_VALUE.ARRAY ? 12 : SCALAR_BYTES[et];
      if (min === undefined) this.fail('bad-header', `${what} has unknown element type ${et}`);
      const n = this.count(`the length of ${what}`, Math.floor((this.left - 8) / min));
      // grown element by element: n is bounded by the file, which may be larger than the prefix
      const out: GgufValue[] = [];
      for (let i = 0; i < n; i++) out.push(this.value(et, `${what}[${i}]`, depth + 1));
      return out;
    }
    const size = SCALAR_BYTES[type];
    if (size === undefined) this.fail('bad-header', `${what} has unknown value type ${type} (expected 0–12)`);
    this.need(size, what);
    const p = this.pos;
    this.pos += size;
    switch (type) {
      case GGUF_VALUE.UINT8: return v.getUint8(p);
      case GGUF_VALUE.INT8: return v.getInt8(p);
      case GGUF_VALUE.UINT16: return v.getUint16(p, true);
      case GGUF_VALUE.INT16: return v.getInt16(p, true);
      case GGUF_VALUE.UINT32: return v.getUint32(p, true);
      case GGUF_VALUE.INT32: return v.getInt32(p, true);
      case GGUF_VALUE.FLOAT32: return v.getFloat32(p, true);
      case GGUF_VALUE.BOOL: return v.getUint8(p) !== 0;
      case GGUF_VALUE.FLOAT64: return v.getFloat64(p, true);
      default: {
        const big = type === GGUF_VALUE.UINT64 ? v.getBigUint64(p, true) : v.getBigInt64(p, true);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
      }
    }
  }
}

export function parseGguf(bytes: Uint8Array, fileName = 'model.gguf'): GgufFile {
  return { ...parseHeader(bytes, fileName, bytes.byteLength), data: wholeFile(bytes) };
}

/**
 * A GGUF file read through a source: the header from a prefix (`firstRead` bytes, doubled
 * until the header fits), then the bytes of each tensor of a readable type (READABLE_GGML),
 * one buffer per tensor. Same checks and messages as parseGguf.
 */
export async function openGguf(src: ByteSource, opts: { fileName?: string; firstRead?: number } = {}): Promise<GgufFile> {
  const header = await openGgufHeader(src, opts);
  const ranges = [...header.tensors.values()].filter((t) => READABLE_GGML.includes(t.typeName)).map((t) => ({ offset: t.offset, length: t.nbytes!, what: `tensor ${t.name}` }));
  return { ...header, data: await readRanges(src, ranges) };
}

/** The header only (metadata, tensor list), read from a prefix grown until it holds it: a model's shape before its weights. */
export async function openGgufHeader(src: ByteSource, opts: { fileName?: string; firstRead?: number } = {}): Promise<GgufHeader> {
  const fileName = opts.fileName ?? src.name;
  let n = Math.min(src.size, Math.max(8, opts.firstRead ?? 2 ** 20));
  for (;;) {
    const prefix = await src.readRange(0, n);
    try {
      return parseHeader(prefix, fileName, src.size);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      if (e.upTo > MAX_GGUF_HEADER_BYTES) throw new LenspressError('bad-header', `${fileName}: the header runs past byte ${e.upTo}; Lenspress reads GGUF headers of up to ${MAX_GGUF_HEADER_BYTES} bytes`);
      n = Math.min(src.size, Math.max(2 * n, e.upTo));
    }
  }
}

function parseHeader(bytes: Uint8Array, fileName: string, fileSize: number): GgufHeader {
  const r = new Reader(bytes, fileName, fileSize);
  r.need(4, 'the magic number');
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'GGUF') r.fail('bad-magic', `the file starts with ${JSON.stringify(magic)}, not the magic "GGUF"`);
  r.pos = 4;
  const version = r.u32('the version');
  if (version !== 3) r.fail('unsupported-version', `GGUF version ${version}; only version 3 is supported (re-convert with a current llama.cpp)`);
  // Bounds: a tensor info takes ≥ 24 bytes, a key/value ≥ 13.
  const nTensors = r.count('tensor_count', Math.floor(r.left / 24));
  const nKv = r.count('kv_count', Math.floor(r.left / 13));
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = r.string(`key ${i}`);
    if (metadata.has(key)) r.fail('bad-header', `metadata key ${key} occurs twice`);
    const type = r.u32(`the type of ${key}`);
    metadata.set(key, r.value(type, key));
  }
  const alignValue = metadata.get('general.alignment') ?? 32;
  if (typeof alignValue !== 'number' || !Number.isInteger(alignValue) || alignValue <= 0 || alignValue % 8 !== 0) {
    return r.fail('bad-header', `general.alignment is ${String(alignValue)}, expected a positive multiple of 8`);
  }
  const alignment: number = alignValue;
  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = r.string(`the name of tensor ${i}`);
    if (names.has(name)) r.fail('bad-header', `tensor ${name} is listed twice`);
    names.add(name);
    const nDims = r.u32(`the n_dims of tensor ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) r.fail('bad-header', `tensor ${name} has ${nDims} dimensions, expected 1–${MAX_DIMS}`);
    const ne: number[] = [];
    // no ggml type packs more than 8 values per byte, so a dimension cannot exceed 8 × the file size
    for (let k = 0; k < nDims; k++) ne.push(r.count(`ne[${k}] of tensor ${name}`, fileSize * 8));
    const type = r.u32(`the type of tensor ${name}`);
    const rel = r.count(`the offset of tensor ${name}`, fileSize);
    const t = GGML_TYPES[type];
    if (!t) r.fail('bad-header', `tensor ${name} has unknown ggml type ${type}`);
    if (rel % alignment !== 0) r.fail('bad-header', `tensor ${name} is at data offset ${rel}, not a multiple of the alignment ${alignment}`);
    const numel = ne.reduce((a, b) => a * b, 1);
    if (t.block !== undefined && ne[0] % t.block !== 0) {
      const what = t.block === QK_K ? `its super-block size ${t.block} (a K-quant)` : `its block size ${t.block}`;
      r.fail('bad-header', `tensor ${name} (${t.name}) has rows of ${ne[0]} values, not a multiple of ${what}`);
    }
    const nbytes = t.block !== undefined && t.bytes !== undefined ? (numel / t.block) * t.bytes : undefined;
    infos.push({ name, ne, shape: [...ne].reverse(), type, typeName: t.name, offset: rel, nbytes });
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  for (const t of infos) {
    t.offset += dataOffset;
    if (t.nbytes !== undefined && t.offset + t.nbytes > fileSize) {
      throw new LenspressError('truncated-file', `${fileName}: tensor ${t.name} (${t.typeName}, [${t.shape.join(', ')}]) needs bytes ${t.offset}…${t.offset + t.nbytes}, but the file has ${fileSize}: truncated`);
    }
  }
  return { fileName, version, metadata, tensors: new Map(infos.map((t) => [t.name, t])), alignment, dataOffset, size: fileSize };
}

/** A tensor as float32, row-major in `info.shape`. */
export function readGgufTensor(file: GgufFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new LenspressError('missing-tensor', `${file.fileName}: no tensor named ${name}`);
  if (!READABLE_GGML.includes(t.typeName)) {
    throw new LenspressError('unsupported-dtype', `${file.fileName}: tensor ${name} is ${t.typeName}; Lenspress reads ${READABLE_GGML.join(', ')} (re-quantise with llama-quantize, e.g. to Q8_0)`);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  const bytes = file.data.range(t.offset, t.nbytes!);
  if (t.type === GGML.Q4_K) return dequantizeQ4K(bytes, n, `${file.fileName}: tensor ${name}`);
  if (t.type === GGML.Q6_K) return dequantizeQ6K(bytes, n, `${file.fileName}: tensor ${name}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, t.nbytes);
  // F32 at an aligned offset: a view into the file, as safetensors.ts does (no copy)
  if (t.type === GGML.F32 && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Float32Array(n);
  const f16 = f16Lookup();
  if (t.type === GGML.F32) for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (t.type === GGML.F16) for (let i = 0; i < n; i++) out[i] = f16[view.getUint16(2 * i, true)];
  else if (t.type === GGML.BF16) {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else if (t.type === GGML.Q8_0) {
    for (let b = 0; b < n / 32; b++) {
      const d = f16[view.getUint16(b * 34, true)];
      for (let j = 0; j < 32; j++) out[b * 32 + j] = view.getInt8(b * 34 + 2 + j) * d;
    }
  } else {
    for (let b = 0; b < n / 32; b++) {
      const d = f16[view.getUint16(b * 18, true)];
      for (let j = 0; j < 16; j++) {
        const q = view.getUint8(b * 18 + 2 + j);
        out[b * 32 + j] = ((q & 0x0f) - 8) * d;
        out[b * 32 + j + 16] = ((q >> 4) - 8) * d;
      }
    }
  }
  return out;
}

const KEPT_QUANTIZED: Partial<Record<number, QuantType>> = { [GGML.Q8_0]: 'q8_0', [GGML.Q4_0]: 'q4_0', [GGML.Q4_K]: 'q4_k' };

/** The type a 2-D tensor is kept in as blocks (MatMulNBits), or undefined: read as float32. */
export const keptQuantType = (t: GgufTensorInfo): QuantType | undefined => (t.shape.length === 2 ? KEPT_QUANTIZED[t.type] : undefined);

/**
 * A Q8_0, Q4_0 or Q4_K matrix as stored (a view into the file's bytes, no copy), or null for
 * any other type (Q6_K included: MatMulNBits has no 6-bit form). `shape` is [rows, cols], row-major.
 */
export function readGgufQuantized(file: GgufFile, name: string): QuantizedMatrix | null {
  const t = file.tensors.get(name);
  if (!t) throw new LenspressError('missing-tensor', `${file.fileName}: no tensor named ${name}`);
  const type = keptQuantType(t);
  if (type === undefined) return null;
  const blocks = file.data.range(t.offset, t.nbytes!);
  return quantizedMatrix(type, t.shape[0], t.shape[1], blocks, `${file.fileName}: tensor ${name}`);
}

/** Typed metadata access with messages that name the key. */
export function ggufNumber(file: GgufHeader, key: string, fallback?: number): number {
  const v = file.metadata.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new LenspressError('bad-header', `${file.fileName}: metadata key ${key} is missing`);
  }
  if (typeof v !== 'number') throw new LenspressError('bad-header', `${file.fileName}: metadata ${key} is ${typeof v === 'bigint' ? `${v} (too large)` : typeof v}, expected a number`);
  return v;
}

export function ggufString(file: GgufHeader, key: string): string | undefined {
  const v = file.metadata.get(key);
  if (v !== undefined && typeof v !== 'string') throw new LenspressError('bad-header', `${file.fileName}: metadata ${key} is ${typeof v}, expected a string`);
  return v;
}

export function ggufArray(file: GgufHeader, key: string): GgufValue[] | undefined {
  const v = file.metadata.get(key);
  if (v !== undefined && !Array.isArray(v)) throw new LenspressError('bad-header', `${file.fileName}: metadata ${key} is ${typeof v}, expected an array`);
  return v;
}
