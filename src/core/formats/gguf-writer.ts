/**
 * GGUF v3 writer (layout in gguf.ts), for tests and seeded checkpoints, with ggml's reference
 * quantisers (ggml-quants.c):
 * - quantize_row_q8_0_ref: per block of 32, d = amax/127, q = roundf(x · (1/d)) (half away
 *   from zero), d stored as f16;
 * - quantize_row_q4_0_ref: per block of 32, `max` = the value of largest magnitude (first one
 *   on ties), d = max / −8, q = min(15, (int8)(x · (1/d) + 8.5)), element j in the low nibble
 *   of byte j and element j + 16 in the high nibble, d stored as f16.
 * Arithmetic is float32 as in C (Math.fround after each operation).
 * Q4_K and Q6_K (layouts in k-quants.ts) are written by a simple quantiser of our own, not
 * llama.cpp's optimising one (make_qkx2_quants / make_qx_quants): the same format, coarser
 * choices. See quantizeQ4_K / quantizeQ6_K.
 */
import { LenspressError } from '../errors.ts';
import { GGML, GGUF_VALUE } from './gguf.ts';
import { f32ToF16, roundToF16 } from './half.ts';
import { QK_K, Q4_K_BYTES, Q6_K_BYTES } from './k-quants.ts';

export type GgufTensorType = 'F32' | 'F16' | 'Q8_0' | 'Q4_0' | 'Q4_K' | 'Q6_K';

/** A metadata value with its GGUF type. */
export type GgufWriteValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'f32[]' | 'i32[]'; value: ArrayLike<number> };

export interface GgufTensorToWrite {
  name: string;
  /** Row-major, slowest first (PyTorch order); written fastest-first as ggml's ne. */
  shape: number[];
  data: Float32Array;
  type: GgufTensorType;
}

const f = Math.fround;

export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new LenspressError('bad-tensor', `Q8_0 needs a multiple of 32 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
    const d = f(amax / 127);
    const id = d !== 0 ? f(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let j = 0; j < 32; j++) {
      const v = f(x[b * 32 + j] * id);
      view.setInt8(b * 34 + 2 + j, Math.sign(v) * Math.round(Math.abs(v))); // roundf: half away from zero
    }
  }
  return out;
}

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new LenspressError('bad-tensor', `Q4_0 needs a multiple of 32 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 32) * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0, max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j];
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
    }
    const d = f(max / -8);
    const id = d !== 0 ? f(1 / d) : 0;
    view.setUint16(b * 18, f32ToF16(d), true);
    for (let j = 0; j < 16; j++) {
      const q = (v: number) => Math.min(15, Math.trunc(f(f(v * id) + 8.5))); // (int8_t) truncates
      out[b * 18 + 2 + j] = q(x[b * 32 + j]) | (q(x[b * 32 + 16 + j]) << 4);
    }
  }
  return out;
}

/**
 * A super-scale for `k`-bit codes of sub-scales up to `max`, as f16, never below max / k (so
 * ceil(sub-scale / d) ≤ k): f16 rounds by at most 2^-11 relative, the factor 1 + 2^-10 covers it.
 */
const superScale = (max: number, k: number): number => roundToF16(f((max / k) * (1 + 2 ** -10)));

/**
 * Q4_K by per-sub-block min/max: sub-block j (32 values) gets m_j = −min(0, min x) and
 * s_j = (max x + m′_j)/15; dmin = max m_j / 63 and d = max s_j / 63 (f16); the 6-bit codes are
 * round(m_j / dmin) and ceil(s_j / d), so the grid d·sc·q − dmin·m (q = 0…15) covers the
 * sub-block but for at most dmin/2 below it; q = round((x + dmin·m)/(d·sc)), clamped.
 * Error per value ≤ d·sc/2 + dmin/2, with d·sc ≤ (max − min)/15 + d + dmin/15.
 */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new LenspressError('bad-tensor', `Q4_K needs a multiple of ${QK_K} values, got ${x.length}`);
  const out = new Uint8Array((x.length / QK_K) * Q4_K_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / QK_K; b++) {
    const o = b * Q4_K_BYTES, v = (j: number, l: number) => x[b * QK_K + 32 * j + l];
    const mins: number[] = [], maxs: number[] = [];
    for (let j = 0; j < 8; j++) {
      let mn = 0, mx = 0;
      for (let l = 0; l < 32; l++) { mn = Math.min(mn, v(j, l)); mx = Math.max(mx, v(j, l)); }
      mins.push(-mn); maxs.push(mx);
    }
    const dmin = superScale(Math.max(...mins), 63);
    const mq = mins.map((m) => (dmin > 0 ? Math.min(63, Math.round(m / dmin)) : 0));
    const s = maxs.map((mx, j) => f(mx + f(dmin * mq[j])) / 15);
    const d = superScale(Math.max(...s), 63);
    const sq = s.map((sj) => (d > 0 ? Math.min(63, Math.ceil(sj / d)) : 0));
    view.setUint16(o, f32ToF16(d), true);
    view.setUint16(o + 2, f32ToF16(dmin), true);
    for (let j = 0; j < 8; j++) {
      // get_scale_min_k4 inverted: j < 4 in the low 6 bits of bytes j, j + 4; j ≥ 4 split 4 + 2 bits
      if (j < 4) { out[o + 4 + j] = sq[j]; out[o + 8 + j] = mq[j]; }
      else {
        out[o + 8 + j] = (sq[j] & 0x0f) | ((mq[j] & 0x0f) << 4);
        out[o + j] |= (sq[j] >> 4) << 6;
        out[o + 4 + j] |= (mq[j] >> 4) << 6;
      }
    }
    for (let j = 0; j < 8; j++) {
      const scale = f(d * sq[j]), min = f(dmin * mq[j]), inv = scale > 0 ? 1 / scale : 0;
      const qs = o + 16 + 32 * (j >> 1), shift = (j & 1) * 4; // sub-blocks 2c, 2c + 1 share qs[32c …]
      for (let l = 0; l < 32; l++) out[qs + l] |= Math.max(0, Math.min(15, Math.round((v(j, l) + min) * inv))) << shift;
    }
  }
  return out;
}

/**
 * Q6_K, symmetric: sub-block i (16 values) gets s_i = max |x| / 31, d = max s_i / 127 (f16),
 * int8 scale ceil(s_i / d), q = round(x / (d·scale)) ∈ [−31, 31] stored as q + 32.
 * Error per value ≤ d·scale/2, with d·scale ≤ max |x| / 31 + d.
 */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new LenspressError('bad-tensor', `Q6_K needs a multiple of ${QK_K} values, got ${x.length}`);
  const out = new Uint8Array((x.length / QK_K) * Q6_K_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < x.length / QK_K; b++) {
    const o = b * Q6_K_BYTES, y = b * QK_K;
    const s = Array.from({ length: 16 }, (_, i) => {
      let amax = 0;
      for (let l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(x[y + 16 * i + l]));
      return amax / 31;
    });
    const d = superScale(Math.max(...s), 127);
    view.setUint16(o + 208, f32ToF16(d), true);
    for (let i = 0; i < 16; i++) {
      const sc = d > 0 ? Math.min(127, Math.ceil(s[i] / d)) : 0, scale = f(d * sc), inv = scale > 0 ? 1 / scale : 0;
      view.setInt8(o + 192 + i, sc);
      for (let l = 0; l < 16; l++) {
        const e = 16 * i + l, code = Math.max(0, Math.min(63, Math.round(x[y + e] * inv) + 32));
        // value e = 128h + 32k + l′: low nibble of ql[64h + l′] (k = 0, 2) or ql[64h + 32 + l′] (k = 1, 3), high for k ≥ 2; qh[32h + l′] bits 2k…2k + 1
        const h = e >> 7, k = (e >> 5) & 3, lp = e & 31;
        out[o + 64 * h + lp + (k & 1) * 32] |= (code & 0x0f) << ((k >> 1) * 4);
        out[o + 128 + 32 * h + lp] |= (code >> 4) << (2 * k);
      }
    }
  }
  return out;
}

function tensorBytes(t: GgufTensorToWrite): Uint8Array {
  const n = t.data.length;
  if (t.type === 'Q8_0') return quantizeQ8_0(t.data);
  if (t.type === 'Q4_0') return quantizeQ4_0(t.data);
  if (t.type === 'Q4_K') return quantizeQ4_K(t.data);
  if (t.type === 'Q6_K') return quantizeQ6_K(t.data);
  const out = new Uint8Array(n * (t.type === 'F32' ? 4 : 2));
  const view = new DataView(out.buffer);
  if (t.type === 'F32') for (let i = 0; i < n; i++) view.setFloat32(4 * i, t.data[i], true);
  else for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToF16(t.data[i]), true);
  return out;
}

const TYPE_ID: Record<GgufTensorType, number> = { F32: GGML.F32, F16: GGML.F16, Q8_0: GGML.Q8_0, Q4_0: GGML.Q4_0, Q4_K: GGML.Q4_K, Q6_K: GGML.Q6_K };
const BLOCK: Partial<Record<GgufTensorType, number>> = { Q8_0: 32, Q4_0: 32, Q4_K: QK_K, Q6_K: QK_K };

/** Grows as written; little-endian. */
class Sink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.room(1); this.view.setUint8(this.len, v); this.len += 1; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.len, v, true); this.len += 4; }
  i32(v: number): void { this.room(4); this.view.setInt32(this.len, v, true); this.len += 4; }
  f32(v: number): void { this.room(4); this.view.setFloat32(this.len, v, true); this.len += 4; }
  u64(v: number): void { this.room(8); this.view.setBigUint64(this.len, BigInt(v), true); this.len += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; }
  string(s: string): void { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  pad(alignment: number): void { while (this.len % alignment !== 0) this.u8(0); }
  result(): Uint8Array { return this.buf.slice(0, this.len); }
}

function writeValue(s: Sink, v: GgufWriteValue): void {
  const scalar: Record<string, number> = { u32: GGUF_VALUE.UINT32, i32: GGUF_VALUE.INT32, f32: GGUF_VALUE.FLOAT32, u64: GGUF_VALUE.UINT64, bool: GGUF_VALUE.BOOL, string: GGUF_VALUE.STRING };
  if (v.type in scalar) s.u32(scalar[v.type]);
  switch (v.type) {
    case 'u32': s.u32(v.value); return;
    case 'i32': s.i32(v.value); return;
    case 'f32': s.f32(v.value); return;
    case 'u64': s.u64(v.value); return;
    case 'bool': s.u8(v.value ? 1 : 0); return;
    case 'string': s.string(v.value); return;
    case 'string[]': s.u32(GGUF_VALUE.ARRAY); s.u32(GGUF_VALUE.STRING); s.u64(v.value.length); for (const x of v.value) s.string(x); return;
    case 'f32[]': s.u32(GGUF_VALUE.ARRAY); s.u32(GGUF_VALUE.FLOAT32); s.u64(v.value.length); for (let i = 0; i < v.value.length; i++) s.f32(v.value[i]); return;
    case 'i32[]': s.u32(GGUF_VALUE.ARRAY); s.u32(GGUF_VALUE.INT32); s.u64(v.value.length); for (let i = 0; i < v.value.length; i++) s.i32(v.value[i]); return;
  }
}

export function writeGguf(metadata: readonly [string, GgufWriteValue][], tensors: readonly GgufTensorToWrite[], alignment = 32): Uint8Array {
  const s = new Sink();
  s.bytes(new TextEncoder().encode('GGUF'));
  s.u32(3);
  s.u64(tensors.length);
  const meta = alignment === 32 ? metadata : [...metadata, ['general.alignment', { type: 'u32', value: alignment }] as [string, GgufWriteValue]];
  s.u64(meta.length);
  for (const [key, v] of meta) {
    s.string(key);
    writeValue(s, v);
  }
  const blobs = tensors.map((t) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new LenspressError('bad-tensor', `tensor ${t.name}: shape [${t.shape.join(', ')}] has ${numel} elements, data has ${t.data.length}`);
    const block = BLOCK[t.type];
    if (block !== undefined && t.shape[t.shape.length - 1] % block !== 0) {
      throw new LenspressError('bad-tensor', `tensor ${t.name}: ${t.type} needs rows of a multiple of ${block} values, its rows have ${t.shape[t.shape.length - 1]}`);
    }
    return tensorBytes(t);
  });
  let offset = 0;
  tensors.forEach((t, i) => {
    s.string(t.name);
    s.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) s.u64(d);
    s.u32(TYPE_ID[t.type]);
    s.u64(offset);
    offset += Math.ceil(blobs[i].length / alignment) * alignment;
  });
  s.pad(alignment);
  blobs.forEach((b) => {
    s.bytes(b);
    s.pad(alignment);
  });
  return s.result();
}
