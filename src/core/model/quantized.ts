/**
 * Projection matrices kept in ggml's block-quantised form (Q8_0, Q4_0) instead of float32,
 * and their lossless repacking into ONNX Runtime's MatMulNBits layout.
 *
 * ggml (ggml-quants.c, block_q8_0 / block_q4_0), blocks of 32 consecutive values of a row:
 * - Q8_0: f16 d, then 32 int8 q; x = q·d (34 bytes);
 * - Q4_0: f16 d, then 16 bytes; element j < 16 in the low nibble of byte j, element j + 16 in
 *   its high nibble; x = (q − 8)·d (18 bytes).
 * MatMulNBits (onnxruntime docs/ContribOperators.md, com.microsoft, since 1): Y = A · Bᵀ with
 * B uint8 [N, n_blocks, blob], codes packed low-first along K (element 2i in the low nibble
 * of byte i, 2i + 1 in the high nibble for 4 bits), scales float [N·n_blocks], and, without a
 * zero_points input, the zero point 2^(bits−1): 8 for 4 bits, 128 for 8 bits. So
 * x = (code − 8)·scale or (code − 128)·scale: Q4_0 repacks by reordering nibbles, Q8_0 by
 * adding 128 to each int8 — both exact, and the f16 d widens to float32 exactly.
 * A ggml [rows, cols] weight (y = W x) is MatMulNBits' B with N = rows, K = cols: no transpose.
 * Q4_K (formats/k-quants.ts: super-blocks of 256 values, 144 bytes, eight 32-value sub-blocks
 * with a 6-bit scale and min each) is kept as stored too and repacked at graph build into
 * 4-bit MatMulNBits blocks with float zero points (q4kToMatMulNBits): x = (code − zp)·scale
 * with scale = d·sc, zp = dmin·m / (d·sc), equal to d·sc·q − dmin·m up to float32 rounding
 * (≤ ~1e-7 relative); the graph runs the zero points as a per-block offset
 * (onnx/matmul-nbits.ts). Q6_K has no MatMulNBits form (it takes 2, 4 or 8 bits): dequantised.
 */
import { LenspressError } from '../errors.ts';
import { f16Lookup } from '../formats/half.ts';
import { dequantizeQ4K, q4kToMatMulNBits } from '../formats/k-quants.ts';
import type { BlockWeights, ModelWeights } from './weights.ts';

export type QuantType = 'q8_0' | 'q4_0' | 'q4_k';

export interface QuantizedMatrix {
  type: QuantType;
  /** Output features (N): the rows of the Linear weight [out, in]. */
  rows: number;
  /** Input features (K), a multiple of the block's values (32; 256 for Q4_K). */
  cols: number;
  /** ggml blocks, row-major: rows × cols/32 blocks of 34 (Q8_0) or 18 (Q4_0) bytes, or rows × cols/256 super-blocks of 144 (Q4_K). */
  blocks: Uint8Array;
}

/** A Linear weight [out, in]: float32, or quantised blocks as the GGUF file stored them. */
export type Matrix = Float32Array | QuantizedMatrix;

/** MatMulNBits' block size: a Q8_0/Q4_0 block, a Q4_K sub-block. */
export const QK = 32;
/** Values per ggml block (a Q4_K super-block holds 256) and its bytes. */
export const BLOCK_VALUES: Record<QuantType, number> = { q8_0: 32, q4_0: 32, q4_k: 256 };
export const BLOCK_BYTES: Record<QuantType, number> = { q8_0: 34, q4_0: 18, q4_k: 144 };
/**
 * Bytes per 32 values in an ONNX Runtime session after repacking: 4-bit codes (16) or 8-bit
 * (32), a float32 scale (4), and for Q4_K a float32 block offset (4; onnx/matmul-nbits.ts).
 */
export const SESSION_BYTES_PER_32: Record<QuantType, number> = { q8_0: 36, q4_0: 20, q4_k: 24 };

export const isQuantized = (m: Matrix): m is QuantizedMatrix => !(m instanceof Float32Array);

/** Number of values (rows × cols); `.length` of a float32 matrix. */
export const matrixSize = (m: Matrix): number => (isQuantized(m) ? m.rows * m.cols : m.length);

/** Bytes the matrix takes in memory (JavaScript). */
export const matrixBytes = (m: Matrix): number => (isQuantized(m) ? m.blocks.byteLength : m.byteLength);

/** Bytes the matrix takes as ONNX Runtime initializers (MatMulNBits' B and scales, Q4_K's block offsets; or float32). */
export const matrixSessionBytes = (m: Matrix): number => (isQuantized(m) ? (m.rows * m.cols / QK) * SESSION_BYTES_PER_32[m.type] : m.byteLength);

export function quantizedMatrix(type: QuantType, rows: number, cols: number, blocks: Uint8Array, name = 'matrix'): QuantizedMatrix {
  const per = BLOCK_VALUES[type];
  const want = cols % per === 0 ? rows * (cols / per) * BLOCK_BYTES[type] : NaN;
  if (blocks.byteLength !== want) {
    throw new LenspressError('bad-tensor', `${name}: ${type} [${rows}, ${cols}] needs ${Number.isNaN(want) ? `a column count that is a multiple of ${per}` : `${want} bytes`}, got ${blocks.byteLength} bytes`);
  }
  return { type, rows, cols, blocks };
}

/** ggml's dequantize_row_q8_0 / q4_0 / q4_K over the whole matrix. */
export function dequantize(m: QuantizedMatrix): Float32Array {
  if (m.type === 'q4_k') return dequantizeQ4K(m.blocks, m.rows * m.cols);
  const n = m.rows * m.cols, nb = n / QK, bytes = BLOCK_BYTES[m.type], src = m.blocks;
  const out = new Float32Array(n);
  const f16 = f16Lookup();
  for (let b = 0; b < nb; b++) {
    const o = b * bytes, d = f16[src[o] | (src[o + 1] << 8)], x = b * QK;
    if (m.type === 'q8_0') {
      for (let j = 0; j < QK; j++) out[x + j] = ((src[o + 2 + j] << 24) >> 24) * d;
    } else {
      for (let j = 0; j < 16; j++) {
        const q = src[o + 2 + j];
        out[x + j] = ((q & 0x0f) - 8) * d;
        out[x + j + 16] = ((q >> 4) - 8) * d;
      }
    }
  }
  return out;
}

/** The float32 matrix (a new array for a quantised one; callers that keep it pay 4 bytes a value). */
export const asFloat32 = (m: Matrix): Float32Array => (isQuantized(m) ? dequantize(m) : m);

export interface MatMulNBitsWeights {
  /** [N, n_blocks, blob] uint8. */
  B: Uint8Array;
  /** [N · n_blocks] float32. */
  scales: Float32Array;
  /** [N · n_blocks] float32 zero points (Q4_K); absent: the default 2^(bits−1). */
  zeroPoints?: Float32Array;
  bits: 4 | 8;
  N: number;
  K: number;
  nBlocks: number;
  blob: number;
}

/** Repacks ggml blocks into MatMulNBits' B and scales (+ float zero points for Q4_K; see the module header). */
export function toMatMulNBits(m: QuantizedMatrix): MatMulNBitsWeights {
  if (m.type === 'q4_k') return q4kToMatMulNBits(m.blocks, m.rows, m.cols);
  const bits = m.type === 'q8_0' ? 8 : 4;
  const nBlocks = m.cols / QK, blob = (QK * bits) / 8, total = m.rows * nBlocks, bytes = BLOCK_BYTES[m.type], src = m.blocks;
  const B = new Uint8Array(total * blob), scales = new Float32Array(total);
  const f16 = f16Lookup();
  for (let b = 0; b < total; b++) {
    const o = b * bytes, ob = b * blob;
    scales[b] = f16[src[o] | (src[o + 1] << 8)];
    if (bits === 8) {
      for (let j = 0; j < QK; j++) B[ob + j] = (src[o + 2 + j] + 128) & 0xff; // int8 q → q + 128
    } else {
      // element e of the block: ggml nibble (e < 16 ? low of byte e : high of byte e − 16)
      const code = (e: number) => (e < 16 ? src[o + 2 + e] & 0x0f : src[o + 2 + e - 16] >> 4);
      for (let i = 0; i < 16; i++) B[ob + i] = code(2 * i) | (code(2 * i + 1) << 4);
    }
  }
  return { B, scales, bits, N: m.rows, K: m.cols, nBlocks, blob };
}

type Projection = 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'W_gate' | 'W_in' | 'W_out';
export const PROJECTIONS: readonly Projection[] = ['W_Q', 'W_K', 'W_V', 'W_O', 'W_gate', 'W_in', 'W_out'];

/** A block with every projection as float32 (dequantised copies where quantised). */
export type FloatBlockWeights = Omit<BlockWeights, Projection> & Record<Projection, Float32Array>;

export function floatBlock(b: BlockWeights): FloatBlockWeights {
  return { ...b, W_Q: asFloat32(b.W_Q), W_K: asFloat32(b.W_K), W_V: asFloat32(b.W_V), W_O: asFloat32(b.W_O), W_gate: asFloat32(b.W_gate), W_in: asFloat32(b.W_in), W_out: asFloat32(b.W_out) };
}

/** The model with every projection dequantised to float32 (the same object when none is quantised). */
export function floatWeights(w: ModelWeights): ModelWeights {
  if (!w.blocks.some((b) => PROJECTIONS.some((k) => isQuantized(b[k])))) return w;
  return { ...w, blocks: w.blocks.map(floatBlock) };
}
