/**
 * Quantised projections as ONNX Runtime's contrib op MatMulNBits (domain com.microsoft;
 * onnxruntime docs/ContribOperators.md): Y = A · dequant(B)ᵀ, A [..., K], B uint8
 * [N, n_blocks, blob], scales float [N·n_blocks], block_size 32, no zero_points input (so the
 * zero point is 8 for 4 bits and 128 for 8 bits). GGUF Q4_0 / Q8_0 blocks repack into this
 * layout exactly (model/quantized.ts), so the graph computes with the checkpoint's own values.
 * accuracy_level is left unset (0): ONNX Runtime then dequantises to float32 and multiplies in
 * float32; level 4 would also quantise A to int8, which changes results.
 */
import { type QuantizedMatrix, QK, toMatMulNBits } from '../model/quantized.ts';
import { DataType, type GraphBuilder } from './graph-builder.ts';

/** Adds the weight's initializers once and returns x ↦ x · Wᵀ ([..., cols] → [..., rows]). */
export function nbitsLinear(g: GraphBuilder, m: QuantizedMatrix, hint: string): (x: string) => string {
  const p = toMatMulNBits(m);
  const B = g.initializer(`${hint}.B`, p.B, [p.N, p.nBlocks, p.blob], DataType.UINT8);
  const scales = g.initializer(`${hint}.scales`, p.scales, [p.N * p.nBlocks]);
  const attrs = { K: { i: p.K }, N: { i: p.N }, bits: { i: p.bits }, block_size: { i: QK } };
  return (x) => g.node('MatMulNBits', [x, B, scales], attrs, 1, 'com.microsoft')[0];
}
