/**
 * safetensors reader (https://github.com/huggingface/safetensors, format section of its
 * README): an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the data section; offsets are relative to the data section, row-major, little-endian.
 *
 * Everything is validated before anything is allocated, with the same rules as the reference
 * Rust implementation: N ≤ 100 MB and within the file, the JSON an object, each tensor's byte
 * range equal to numel × dtype size, the ranges contiguous from 0 and covering the data section
 * exactly (so a truncated file is caught at the tensor that runs past the end).
 *
 * Tensors are returned as Float32Array from F32, F16 or BF16. Memory: an F32 tensor is a view
 * into the file's bytes when 4-byte aligned (no copy); F16/BF16 are widened into new arrays, so
 * a bf16 checkpoint held as float32 takes twice its file size (plus the file bytes until the
 * caller drops them).
 *
 * Files over 2 GiB (Mistral 7B's shards are 5–10 GB): `openSafetensors` reads the header from a
 * ByteSource (./byte-source.ts), then each tensor's bytes into its own buffer; the checks and
 * messages are those of `parseSafetensors`, which reads a file already in memory.
 */
import { LenspressError } from '../errors.ts';
import { f16Lookup } from './half.ts';
import { type ByteSource, type HeldBytes, readRanges, wholeFile } from './byte-source.ts';

/** Largest header the reference implementation accepts (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Every dtype of the safetensors spec with its size in bytes; only F32/F16/BF16 can be read as weights. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type ReadableDtype = (typeof READABLE_DTYPES)[number];

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  fileName: string;
  /** The file's length in bytes. */
  size: number;
  /** The tensors' bytes: the whole file (parseSafetensors) or each tensor's range (openSafetensors). */
  data: HeldBytes;
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const fail = (code: string, msg: string): never => {
  throw new LenspressError(code, msg);
};

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const WHAT = 'expected a safetensors file (8-byte header length, JSON header, tensor data)';

/** The header's length from the file's first 8 bytes, checked against the file's size. */
function headerLength(first: Uint8Array, fileSize: number, fileName: string): number {
  if (fileSize < 8) fail('truncated-file', `${fileName}: ${fileSize} bytes, too few for the 8-byte header length; ${WHAT}`);
  const view = new DataView(first.buffer, first.byteOffset, 8);
  const lo = view.getUint32(0, true), hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > fileSize - 8) {
    fail('truncated-file', `${fileName}: the header length field says ${headerLen} bytes, but only ${fileSize - 8} follow it; truncated, or ${WHAT}`);
  }
  if (headerLen > MAX_HEADER_BYTES) fail('bad-header', `${fileName}: header of ${headerLen} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit of the safetensors format`);
  return headerLen;
}

export function parseSafetensors(bytes: Uint8Array, fileName = 'model.safetensors'): SafetensorsFile {
  const headerLen = headerLength(bytes, bytes.byteLength, fileName);
  return { ...parseHeader(bytes.subarray(8, 8 + headerLen), bytes.byteLength, fileName), data: wholeFile(bytes) };
}

/** A safetensors file read through a source: its header, then each tensor's bytes (one buffer per tensor). */
export async function openSafetensors(src: ByteSource, fileName = src.name): Promise<SafetensorsFile> {
  const headerLen = headerLength(src.size < 8 ? new Uint8Array(8) : await src.readRange(0, 8), src.size, fileName);
  const header = parseHeader(await src.readRange(8, headerLen), src.size, fileName);
  const ranges = [...header.tensors.values()].map((t) => ({ offset: t.begin, length: t.end - t.begin, what: `tensor ${t.name}` }));
  return { ...header, data: await readRanges(src, ranges) };
}

/** The JSON header (`json`, the bytes after the length field) of a file of `fileSize` bytes. */
function parseHeader(json: Uint8Array, fileSize: number, fileName: string): Omit<SafetensorsFile, 'data'> {
  const what = WHAT;
  const headerLen = json.byteLength;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    return fail('bad-header', `${fileName}: the ${headerLen}-byte header is not valid UTF-8 JSON (${(e as Error).message}); ${what}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('bad-header', `${fileName}: the header is JSON but not an object; ${what}`);

  const dataStart = 8 + headerLen;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const list: SafetensorsTensor[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('bad-header', `${fileName}: __metadata__ is not an object of strings`);
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail('bad-header', `${fileName}: __metadata__.${k} is ${typeof v}, expected a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const bad = (msg: string): never => fail('bad-header', `${fileName}: tensor ${name}: ${msg}`);
    if (typeof entry !== 'object' || entry === null) bad('the header entry is not an object {dtype, shape, data_offsets}');
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) {
      bad(`unknown dtype ${JSON.stringify(dtype)}; the safetensors dtypes are ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLen) {
      fail('truncated-file', `${fileName}: tensor ${name}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section: the file is truncated`);
    }
    // numel checked step by step against the data size, so a huge shape cannot overflow
    let numel = 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (numel * DTYPE_BYTES[dtype as string] > dataLen) bad(`shape [${(shape as number[]).join(', ')}] of ${dtype} needs more bytes than the ${dataLen}-byte data section holds`);
    }
    const size = numel * DTYPE_BYTES[dtype as string];
    if (end - begin !== size) bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${size}`);
    list.push({ name, dtype: dtype as string, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  // Contiguous from 0 and covering the data section exactly, as the reference implementation requires.
  list.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const t of list) {
    if (t.begin !== at) fail('bad-header', `${fileName}: tensor ${t.name} starts at data byte ${t.begin - dataStart}, expected ${at - dataStart} (tensors must be contiguous without gaps or overlaps)`);
    at = t.end;
  }
  if (at !== fileSize) fail('bad-header', `${fileName}: the tensors cover ${at - dataStart} bytes of data but the data section has ${dataLen}: ${fileSize - at} unexplained bytes at the end`);
  return { fileName, size: fileSize, tensors: new Map(list.map((t) => [t.name, t])), metadata };
}

/** One tensor as float32 (row-major, shape as stored). Throws for a missing name or a dtype that is not F32/F16/BF16. */
export function readSafetensor(file: SafetensorsFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) return fail('missing-tensor', `${file.fileName}: no tensor named ${name}`);
  const n = (t.end - t.begin) / (DTYPE_BYTES[t.dtype] ?? 1);
  if (t.dtype === 'F32') {
    const bytes = file.data.range(t.begin, t.end - t.begin);
    return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.slice().buffer);
  }
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const bytes = file.data.range(t.begin, t.end - t.begin);
    const view = new DataView(bytes.buffer, bytes.byteOffset, t.end - t.begin);
    const out = new Float32Array(n);
    if (t.dtype === 'BF16') {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    } else {
      const table = f16Lookup();
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)];
    }
    return out;
  }
  return fail('unsupported-dtype', `${file.fileName}: tensor ${name} has dtype ${t.dtype}; weights must be ${READABLE_DTYPES.join(', ')}`);
}
