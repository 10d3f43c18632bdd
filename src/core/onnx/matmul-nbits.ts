/**
 * Quantised projections as ONNX Runtime's contrib op MatMulNBits (domain com.microsoft;
 * onnxruntime docs/ContribOperators.md): Y = A · dequant(B)ᵀ, A [..., K], B uint8
 * [N, n_blocks, blob], scales float [N·n_blocks], block_size 32, no zero_points input for
 * Q4_0 / Q8_0 (so the zero point is 8 for 4 bits and 128 for 8 bits), which repack into this
 * layout exactly (model/quantized.ts), so the graph computes with the checkpoint's own values.
 * Q4_K (one MatMulNBits block per 32-value sub-block, float zero points zp = dmin·m / (d·sc);
 * formats/k-quants.ts) runs as the same zero-point-free MatMulNBits plus a per-block offset
 * (nbitsLinear below), so it needs only the kernels Q4_0 needs (WebGPU's included, which reads
 * zero points as packed uint8 only; the Q4_K form has not been run in a browser test yet).
 * accuracy_level is left unset (0): ONNX Runtime then dequantises to float32 and multiplies in
 * float32; level 4 would also quantise A to int8, which changes results.
 */
import { type QuantizedMatrix, QK, toMatMulNBits } from '../model/quantized.ts';
import { DataType, type GraphBuilder } from './graph-builder.ts';

/**
 * Adds the weight's initializers once and returns x ↦ x · Wᵀ ([1, T, cols] → [1, T, rows]).
 * Q4_K: (code − zp)·scale = (code − 8)·scale + c with c = (8 − zp)·scale per 32-value block,
 * so y = MatMulNBits(x; B, scales) without zero points + Σ_b (Σ_{k in b} x_k)·c_{n,b}: block
 * sums of x [1, T, K/32] times Cᵀ [K/32, N] (4 bytes per 32 weights). A float zero_points
 * input computes the same, but ONNX Runtime's CPU kernel then leaves its MLAS 4-bit path and
 * dequantises the whole matrix on every call (measured with onnxruntime-node 1.30 on x64, 4096
 * × 4096, 1 and 16 positions: 27.8 / 32.4 ms against float32 MatMul's 1.4 / 2.5 ms; this form
 * 0.73 / 3.4 ms, as Q4_0), and ONNX Runtime Web's WebGPU kernel reads zero points as uint8.
 */
export function nbitsLinear(g: GraphBuilder, m: QuantizedMatrix, hint: string): (x: string) => string {
  const p = toMatMulNBits(m);
  const B = g.initializer(`${hint}.B`, p.B, [p.N, p.nBlocks, p.blob], DataType.UINT8);
  const scales = g.initializer(`${hint}.scales`, p.scales, [p.N * p.nBlocks]);
  const attrs = { K: { i: p.K }, N: { i: p.N }, bits: { i: p.bits }, block_size: { i: QK } };
  const nbits = (x: string) => g.node('MatMulNBits', [x, B, scales], attrs, 1, 'com.microsoft')[0];
  const zp = p.zeroPoints;
  if (!zp) return nbits;
  const offsetT = new Float32Array(p.nBlocks * p.N); // Cᵀ [n_blocks, N]: c = (8 − zp)·scale
  for (let n = 0; n < p.N; n++) for (let b = 0; b < p.nBlocks; b++) offsetT[b * p.N + n] = (8 - zp[n * p.nBlocks + b]) * p.scales[n * p.nBlocks + b];
  const C = g.initializer(`${hint}.block_offsets`, offsetT, [p.nBlocks, p.N]);
  const blocksOf = g.constInt64([0, 0, p.nBlocks, QK]), last = g.constInt64([-1]);
  return (x) => {
    const sums = g.op('ReduceSum', [g.op('Reshape', [x, blocksOf]), last], { keepdims: { i: 0 } }); // [1, T, n_blocks]
    return g.op('Add', [nbits(x), g.op('MatMul', [sums, C])]);
  };
}
