/**
 * ggml's K-quants Q4_K and Q6_K, dequantised to float32 (ggml-quants.c dequantize_row_q4_K,
 * dequantize_row_q6_K, get_scale_min_k4; ggml-common.h block_q4_K / block_q6_K). llama.cpp's
 * quantiser writes them into files that are otherwise Q4_0 (output.weight as Q6_K) and mixes
 * them in Q4_K_M, so published Mistral 7B GGUFs need both.
 *
 * Super-blocks of QK_K = 256 consecutive values of a row, little-endian:
 * - Q4_K (144 bytes): f16 d @0, f16 dmin @2, scales[12] @4, qs[128] @16. Eight sub-blocks of
 *   32 values, each with a 6-bit scale sc and a 6-bit min m packed into scales[12]:
 *   j < 4: sc = scales[j] & 63, m = scales[j + 4] & 63; j ≥ 4: sc = (scales[j + 4] & 15) |
 *   (scales[j − 4] >> 6) << 4, m = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4.
 *   Values 64c … 64c + 63 (c = 0…3) use the 32 bytes qs[32c …]: value 64c + l is the low
 *   nibble of qs[32c + l] (sub-block 2c), value 64c + 32 + l its high nibble (sub-block
 *   2c + 1). x = (d·sc)·q − dmin·m.
 * - Q6_K (210 bytes): ql[128] @0 (low 4 bits), qh[64] @128 (high 2 bits), int8 scales[16]
 *   @192 (one per 16 values), f16 d @208. Each half h (values 128h … 128h + 127) uses
 *   ql[64h …], qh[32h …]; for l < 32 its values l, l + 32, l + 64, l + 96 take the low nibble
 *   of ql[l], the low nibble of ql[l + 32], the high nibble of ql[l], the high nibble of
 *   ql[l + 32], with bits 0–1, 2–3, 4–5, 6–7 of qh[l] on top; q is that 6-bit code − 32, and
 *   x = (d·scales[value / 16])·q.
 * Arithmetic as in C, float32: d·sc is rounded to float32 before it multiplies q.
 */
import { LenspressError } from '../errors.ts';
import type { MatMulNBitsWeights } from '../model/quantized.ts';
import { f16Lookup } from './half.ts';

export const QK_K = 256;
export const Q4_K_BYTES = 144;
export const Q6_K_BYTES = 210;

/** get_scale_min_k4: sub-block j's 6-bit scale and min from the 12 packed bytes at `o`. */
export function scaleMinK4(src: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [src[o + j] & 63, src[o + j + 4] & 63];
  return [(src[o + j + 4] & 0x0f) | ((src[o + j - 4] >> 6) << 4), (src[o + j + 4] >> 4) | ((src[o + j] >> 6) << 4)];
}

function checkSize(type: string, src: Uint8Array, n: number, bytes: number, name: string): void {
  if (n % QK_K !== 0 || src.byteLength !== (n / QK_K) * bytes) {
    throw new LenspressError('bad-tensor', `${name}: ${type} needs a multiple of ${QK_K} values in ${bytes}-byte super-blocks; got ${n} values in ${src.byteLength} bytes`);
  }
}

/** `n` values from Q4_K super-blocks (n a multiple of 256, src exactly n/256 × 144 bytes). */
export function dequantizeQ4K(src: Uint8Array, n: number, name = 'tensor'): Float32Array {
  checkSize('Q4_K', src, n, Q4_K_BYTES, name);
  const out = new Float32Array(n);
  const f16 = f16Lookup();
  const fr = Math.fround;
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q4_K_BYTES, y = b * QK_K;
    const d = f16[src[o] | (src[o + 1] << 8)], dmin = f16[src[o + 2] | (src[o + 3] << 8)];
    for (let c = 0; c < 4; c++) {
      const [sc1, m1] = scaleMinK4(src, o + 4, 2 * c), [sc2, m2] = scaleMinK4(src, o + 4, 2 * c + 1);
      const d1 = fr(d * sc1), min1 = fr(dmin * m1), d2 = fr(d * sc2), min2 = fr(dmin * m2);
      const qs = o + 16 + 32 * c, yc = y + 64 * c;
      for (let l = 0; l < 32; l++) {
        const q = src[qs + l];
        out[yc + l] = fr(d1 * (q & 0x0f)) - min1;
        out[yc + 32 + l] = fr(d2 * (q >> 4)) - min2;
      }
    }
  }
  return out;
}

/** `n` values from Q6_K super-blocks (n a multiple of 256, src exactly n/256 × 210 bytes). */
export function dequantizeQ6K(src: Uint8Array, n: number, name = 'tensor'): Float32Array {
  checkSize('Q6_K', src, n, Q6_K_BYTES, name);
  const out = new Float32Array(n);
  const f16 = f16Lookup();
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q6_K_BYTES;
    const d = f16[src[o + 208] | (src[o + 209] << 8)];
    const scale = (i: number) => Math.fround(d * ((src[o + 192 + i] << 24) >> 24)); // int8 scale
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, y = b * QK_K + 128 * h;
      const s = Array.from({ length: 8 }, (_, i) => scale(8 * h + i));
      for (let l = 0; l < 32; l++) {
        const lo = src[ql + l], hi = src[ql + l + 32], top = src[qh + l];
        const sub = l >> 4; // values l + 32k use scales[8h + sub + 2k]
        out[y + l] = s[sub] * (((lo & 0x0f) | ((top & 3) << 4)) - 32);
        out[y + l + 32] = s[sub + 2] * (((hi & 0x0f) | (((top >> 2) & 3) << 4)) - 32);
        out[y + l + 64] = s[sub + 4] * (((lo >> 4) | (((top >> 4) & 3) << 4)) - 32);
        out[y + l + 96] = s[sub + 6] * (((hi >> 4) | (((top >> 6) & 3) << 4)) - 32);
      }
    }
  }
  return out;
}

/**
 * A Q4_K matrix [rows, cols] (cols a multiple of 256) as ONNX Runtime MatMulNBits weights
 * (model/quantized.ts): 4 bits, block_size 32 — one block per Q4_K sub-block — with a float
 * zero_points input, so (code − zp)·scale = d·sc·q − dmin·m: scale = d·sc, zp = dmin·m / (d·sc).
 * onnxruntime-node 1.30 (CPU) and onnxruntime-web's wasm take float zero points (measured); a
 * sub-block with sc = 0 would give zp = ±∞ and NaN outputs, so it becomes codes 0, zp = 1,
 * scale = dmin·m (exact). Used for Q4_K projections kept quantised (model/quantized.ts); the
 * graph runs the zero points as per-block offsets (onnx/matmul-nbits.ts).
 */
export function q4kToMatMulNBits(src: Uint8Array, rows: number, cols: number): MatMulNBitsWeights & { zeroPoints: Float32Array } {
  checkSize('Q4_K', src, rows * cols, Q4_K_BYTES, 'matrix');
  if (cols % QK_K !== 0) throw new LenspressError('bad-tensor', `Q4_K rows must hold whole super-blocks of ${QK_K} values; got ${cols} columns`);
  const nBlocks = cols / 32, total = rows * nBlocks;
  const B = new Uint8Array(total * 16), scales = new Float32Array(total), zeroPoints = new Float32Array(total);
  const f16 = f16Lookup(), fr = Math.fround;
  for (let s = 0; s < total / 8; s++) {
    const o = s * Q4_K_BYTES, d = f16[src[o] | (src[o + 1] << 8)], dmin = f16[src[o + 2] | (src[o + 3] << 8)];
    for (let j = 0; j < 8; j++) {
      const [sc, m] = scaleMinK4(src, o + 4, j), k = 8 * s + j, scale = fr(d * sc), min = fr(dmin * m);
      if (scale === 0) { scales[k] = min; zeroPoints[k] = 1; continue; } // B stays 0
      scales[k] = scale;
      zeroPoints[k] = min / scale;
      const qs = o + 16 + 32 * (j >> 1), code = (e: number) => (j & 1 ? src[qs + e] >> 4 : src[qs + e] & 0x0f);
      for (let i = 0; i < 16; i++) B[16 * k + i] = code(2 * i) | (code(2 * i + 1) << 4); // element 2i low, 2i + 1 high
    }
  }
  return { B, scales, zeroPoints, bits: 4, N: rows, K: cols, nBlocks, blob: 16 };
}
