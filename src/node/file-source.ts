/**
 * A model file on disk as a ByteSource (src/core/formats/byte-source.ts): ranges are read
 * through a FileHandle, so files past fs.readFile's 2 GiB limit (Node: kIoMaxLength) open
 * tensor by tensor. One fs read moves at most `chunkBytes` (default 1 GiB, below that limit);
 * tests force a few bytes to exercise the loop.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { LenspressError } from '../core/errors.ts';
import { type ByteSource, checkRange } from '../core/formats/byte-source.ts';

export interface FileSourceOptions {
  /** Largest single read (default 1 GiB). */
  chunkBytes?: number;
}

export class FileHandleSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fh: FileHandle,
    private readonly chunkBytes: number,
  ) {}

  static async open(path: string, opts: FileSourceOptions = {}): Promise<FileHandleSource> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      return new FileHandleSource(path, size, fh, Math.max(1, opts.chunkBytes ?? 2 ** 30));
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async readRange(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length, 'a read');
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.fh.read(out, done, Math.min(this.chunkBytes, length - done), offset + done);
      if (bytesRead === 0) throw new LenspressError('truncated-file', `${this.name}: the file ended at byte ${offset + done} while reading bytes ${offset}…${offset + length} (it had ${this.size} bytes when opened): it changed or is truncated`);
      done += bytesRead;
    }
    return out;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** null when the file does not exist. */
export async function openFileSource(path: string, opts: FileSourceOptions = {}): Promise<FileHandleSource | null> {
  try {
    return await FileHandleSource.open(path, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** sha256 of a whole source, read 64 MiB at a time (the provenance of a file of any size). */
export async function sha256Source(src: ByteSource, chunkBytes = 64 * 2 ** 20): Promise<string> {
  const h = createHash('sha256');
  for (let at = 0; at < src.size; at += chunkBytes) h.update(await src.readRange(at, Math.min(chunkBytes, src.size - at)));
  return h.digest('hex');
}
