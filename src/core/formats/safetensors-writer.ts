/**
 * safetensors writer (format: https://github.com/huggingface/safetensors), for tests and for
 * seeded checkpoints. Like the reference `serialize`, the JSON header is padded with spaces so
 * the data section starts 8-byte aligned, tensors are laid out contiguously in the order
 * given, and values are little-endian. Float32 input is narrowed with round-to-nearest-even
 * (what `tensor.to(torch.bfloat16)` does). Also: splitting into shards with the Hugging Face
 * `model.safetensors.index.json` (`{metadata: {total_size}, weight_map: {tensor: file}}`).
 */
import { LenspressError } from '../errors.ts';
import { f32ToBf16, f32ToF16 } from './half.ts';

export type WritableDtype = 'F32' | 'F16' | 'BF16';

export interface TensorToWrite {
  name: string;
  /** Row-major, slowest axis first (PyTorch order). */
  shape: number[];
  data: Float32Array;
  dtype: WritableDtype;
}

const BYTES: Record<WritableDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function writeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new LenspressError('bad-tensor', `tensor ${t.name}: shape [${t.shape.join(', ')}] has ${numel} elements, data has ${t.data.length}`);
    if (Object.hasOwn(header, t.name)) throw new LenspressError('bad-tensor', `tensor ${t.name} is written twice`);
    const size = numel * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    const n = t.data.length;
    if (t.dtype === 'F32') for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    else if (t.dtype === 'BF16') for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, f32ToBf16(t.data[i]), true);
    else for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, f32ToF16(t.data[i]), true);
    at += n * BYTES[t.dtype];
  }
  return out;
}

/** transformers' shard file name: model-00001-of-00003.safetensors. */
export const shardName = (i: number, n: number): string => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
export const INDEX_NAME = 'model.safetensors.index.json';

/**
 * Splits tensors, in order, into `n` shards of roughly equal size (no tensor is split, as in
 * transformers' `shard_checkpoint`), and builds the index that maps each tensor to its file.
 */
export function writeShardedSafetensors(tensors: readonly TensorToWrite[], n: number): { files: Map<string, Uint8Array>; index: { metadata: { total_size: number }; weight_map: Record<string, string> } } {
  if (!Number.isInteger(n) || n < 1 || n > tensors.length) throw new LenspressError('bad-argument', `shards must be an integer from 1 to ${tensors.length} (the number of tensors), got ${n}`);
  const sizes = tensors.map((t) => t.data.length * BYTES[t.dtype]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups: TensorToWrite[][] = Array.from({ length: n }, () => []);
  // Shard k takes the tensors that start in its k-th of the bytes; k moves by at most one per
  // tensor and early enough that every shard gets at least one tensor.
  let acc = 0, k = 0;
  tensors.forEach((t, i) => {
    const byBytes = Math.min(n - 1, Math.floor((acc * n) / Math.max(total, 1)));
    if (i > 0) k = Math.min(k + 1, Math.max(k, byBytes, n - (tensors.length - i)));
    groups[k].push(t);
    acc += sizes[i];
  });
  const files = new Map<string, Uint8Array>();
  const weightMap: Record<string, string> = {};
  groups.forEach((g, k) => {
    const name = shardName(k, n);
    files.set(name, writeSafetensors(g, { format: 'pt' }));
    for (const t of g) weightMap[t.name] = name;
  });
  return { files, index: { metadata: { total_size: total }, weight_map: weightMap } };
}
