/**
 * 16-bit floats as checkpoints store them: IEEE 754 binary16 ("F16", `torch.float16`, ggml's
 * `ggml_fp16_t`) and bfloat16 ("BF16", the top half of a float32). Both widen to float32
 * exactly; narrowing rounds to nearest, ties to even, as PyTorch's `c10::BFloat16`/`c10::Half`
 * constructors, numpy and ggml's GGML_FP32_TO_FP16 do. Inputs to the narrowing functions are
 * first rounded to float32 (PyTorch converts a Python float to float32 before narrowing).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits of x (rounded to float32 first). */
export function float32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

export function float32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** bfloat16 bits → the float32 value they denote (exact). */
export function bf16ToF32(h: number): number {
  return float32FromBits((h & 0xffff) << 16);
}

/** float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
export function f32ToBf16(x: number): number {
  const b = float32Bits(x);
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → binary16 bits, round to nearest even; overflow gives ±Inf, NaN stays NaN. */
export function f32ToF16(x: number): number {
  const b = float32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // the binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // binary16 subnormal: m × 2^-24 with m = round(full × 2^(exp − 126)), a right shift by 126 − exp ≥ 14
    const shift = 126 - exp;
    if (shift > 24) return sign; // below half the smallest subnormal
    const full = mant | 0x800000;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    return sign | m; // m = 1024 is the smallest normal, encoded correctly by the carry
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent (even to Inf) is right
  return sign | h;
}

let f16Table: Float32Array | undefined;

/** binary16 bits → float32 value (exact), through a 64K-entry table built on first use. */
export function f16ToF32(h: number): number {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const s = i & 0x8000 ? -1 : 1;
      const e = (i >>> 10) & 0x1f;
      const m = i & 0x3ff;
      f16Table[i] = e === 0 ? s * m * 2 ** -24 : e === 0x1f ? (m === 0 ? s * Infinity : NaN) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  return f16Table[h & 0xffff];
}

/** The table itself, for tight conversion loops. */
export function f16Lookup(): Float32Array {
  f16ToF32(0);
  return f16Table!;
}

/** x rounded to bfloat16 and widened back: the value a bf16 tensor would hold. */
export const roundToBf16 = (x: number): number => bf16ToF32(f32ToBf16(x));
/** x rounded to binary16 and widened back. */
export const roundToF16 = (x: number): number => f16ToF32(f32ToF16(x));
