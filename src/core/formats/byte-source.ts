/**
 * Random access to a model file, so that files larger than one buffer can be read: a format
 * reader parses its header from a prefix, then reads each tensor's bytes by (offset, length).
 * Node's fs.readFile and a single ArrayBuffer stop at 2 GiB, while a Q4_0 Mistral 7B GGUF is
 * 4.1 GB and its safetensors shards 5–10 GB; each tensor of such a file is far smaller.
 *
 * The core only sees the interface: Node implements it over a FileHandle (src/node/file-source.ts),
 * and a Uint8Array already in memory is wrapped by `bufferSource` (views, no copy).
 */
import { LenspressError } from '../errors.ts';

export interface ByteSource {
  /** Shown in messages (a path or a hub URL). */
  readonly name: string;
  /** The file's length in bytes. */
  readonly size: number;
  /** `length` bytes from `offset`; the caller keeps the range within `size`. */
  readRange(offset: number, length: number): Promise<Uint8Array>;
  /** Releases a file handle, where there is one. */
  close?(): Promise<void>;
}

/** The range must lie in the file: checked before anything of `length` bytes is allocated. */
export function checkRange(src: { name: string; size: number }, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new LenspressError('bad-header', `${src.name}: ${what} is at bytes ${offset}…${offset + length}, not a valid range`);
  }
  if (offset + length > src.size) {
    throw new LenspressError('truncated-file', `${src.name}: ${what} needs bytes ${offset}…${offset + length}, but the file has ${src.size}: truncated`);
  }
}

/** A file already in memory as a source: ranges are views into `bytes`. */
export function bufferSource(bytes: Uint8Array, name: string): ByteSource & { bytes: Uint8Array } {
  return {
    name,
    size: bytes.byteLength,
    bytes,
    readRange: (offset, length) => {
      checkRange({ name, size: bytes.byteLength }, offset, length, 'a read');
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/**
 * Tensor bytes held in memory, read synchronously by the format readers: either the whole file
 * (the Uint8Array APIs) or only the tensors' ranges, each read from a source into its own buffer.
 */
export interface HeldBytes {
  range(offset: number, length: number): Uint8Array;
}

export function wholeFile(bytes: Uint8Array): HeldBytes {
  return { range: (offset, length) => bytes.subarray(offset, offset + length) };
}

/**
 * Reads each range (already checked against the header) from `src`, one buffer per range, so
 * no buffer is larger than the largest tensor; `range` then returns them by their offset.
 */
export async function readRanges(src: ByteSource, ranges: readonly { offset: number; length: number; what: string }[]): Promise<HeldBytes> {
  const held = new Map<number, Uint8Array>();
  // in file order: sequential reads for a disk, and for the page cache
  for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
    checkRange(src, r.offset, r.length, r.what);
    const bytes = await src.readRange(r.offset, r.length);
    if (bytes.byteLength !== r.length) throw new LenspressError('truncated-file', `${src.name}: ${r.what}: read ${bytes.byteLength} of ${r.length} bytes at ${r.offset}: the file changed or is truncated`);
    held.set(r.offset, bytes);
  }
  return {
    range: (offset, length) => {
      const b = held.get(offset);
      if (!b || b.byteLength < length) throw new LenspressError('internal', `${src.name}: bytes ${offset}…${offset + length} were not read (only the listed tensors are)`);
      return b.subarray(0, length);
    },
  };
}
