/**
 * A Blob (a File the reader picked, or a Cache Storage part) as a ByteSource
 * (core/formats/byte-source.ts): each range is a slice read on its own, so a 4 GB GGUF opens
 * tensor by tensor and is never one ArrayBuffer. Blobs are immutable, but a File's bytes on
 * disk are not: a short read means the file changed after it was picked.
 */
import { LenspressError } from '../core/errors.ts';
import { type ByteSource, checkRange } from '../core/formats/byte-source.ts';

export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    async readRange(offset, length) {
      checkRange({ name, size: blob.size }, offset, length, 'a read');
      let buf: ArrayBuffer;
      try {
        buf = await blob.slice(offset, offset + length).arrayBuffer();
      } catch (e) {
        throw new LenspressError('file-unreadable', `${name}: could not read bytes ${offset}…${offset + length} (${(e as Error).message}): was the file moved or changed after it was chosen? Choose it again`);
      }
      if (buf.byteLength !== length) throw new LenspressError('truncated-file', `${name}: read ${buf.byteLength} of ${length} bytes at ${offset}: the file changed or is truncated`);
      return new Uint8Array(buf);
    },
  };
}
