/** A GGUF whose tensors lie past a sparse hole: files over 2 or 4 GiB without writing gigabytes (tests only). */
import { open, readFile } from 'node:fs/promises';
import { parseGguf } from '../../src/core/formats/gguf.ts';
import { ggufFromModel } from '../../src/core/formats/gguf-model.ts';
import { writeGguf } from '../../src/core/formats/gguf-writer.ts';
import type { LoadedModel } from '../../src/core/model/weights.ts';
import { ggufVocabFromTokenizerJson } from '../../src/core/tokenizer/gguf-tokenizer.ts';
import { mistralTokenizerPaths } from '../../src/node/write-checkpoint.ts';

/** Byte offset just past `name`'s string (u64 length + UTF-8) in a GGUF header. */
function afterName(header: Uint8Array, name: string): number {
  const enc = new TextEncoder().encode(name);
  const pat = new Uint8Array(8 + enc.length);
  new DataView(pat.buffer).setBigUint64(0, BigInt(enc.length), true);
  pat.set(enc, 8);
  for (let i = 0; i + pat.length <= header.length; i++) if (pat.every((b, k) => header[i + k] === b)) return i + pat.length;
  throw new Error(`${name} not in the header`);
}

/**
 * `model` (32000-token vocabulary: the Mistral tokenizer is embedded) as a Q8_0 GGUF whose first tensor is an I8 tensor of `pad` bytes (never written: a
 * hole in a sparse file), so every real tensor lies past `pad`. A valid GGUF for ggml's reader
 * too (tensors contiguous and aligned); Lenspress does not read the I8 tensor.
 */
export async function writePaddedGguf(model: LoadedModel, file: string, pad: number): Promise<void> {
  const vocab = ggufVocabFromTokenizerJson(JSON.parse(await readFile(mistralTokenizerPaths().tokenizerJson, 'utf8')));
  const { metadata, tensors } = ggufFromModel(model, 'Q8_0', vocab, 'padded');
  const small = writeGguf(metadata, [{ name: 'lenspress.padding', shape: [32], data: new Float32Array(32), type: 'F32' }, ...tensors]);
  const parsed = parseGguf(small);
  const header = small.slice(0, parsed.dataOffset);
  const view = new DataView(header.buffer);
  const p = afterName(header, 'lenspress.padding'); // u32 n_dims = 1, u64 ne0, u32 type, u64 offset
  view.setBigUint64(p + 4, BigInt(pad), true);
  view.setUint32(p + 12, 24, true); // GGML_TYPE_I8
  for (const t of tensors) {
    const q = afterName(header, t.name) + 4 + 8 * t.shape.length + 4;
    view.setBigUint64(q, view.getBigUint64(q, true) + BigInt(pad - 128), true);
  }
  const fh = await open(file, 'w');
  await fh.write(header, 0, header.length, 0);
  const data = small.subarray(parsed.dataOffset + 128);
  await fh.write(data, 0, data.length, parsed.dataOffset + pad);
  await fh.close();
}

