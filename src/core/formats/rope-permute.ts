/**
 * Moving q/k projection rows between the two RoPE pairings, per head:
 * - 'interleaved' (Meta, llama2.c, GGUF 'llama'): dimensions (2i, 2i+1) rotate together;
 * - 'half' (Hugging Face `rotate_half`): dimensions (i, i + d_head/2).
 * toHalf is transformers' convert_llama_weights_to_hf `permute` (view(H, d/2, 2, cols)
 * .transpose(1, 2)); toInterleaved is llama.cpp's convert_hf_to_gguf `LlamaModel.permute`
 * (reshape(H, 2, d/2, cols).swapaxes(1, 2)), its inverse. Row 2i + s (interleaved) is row
 * s·d/2 + i (half). Works on biases too (cols = 1).
 */

function permute(w: Float32Array, nHeads: number, dHead: number, cols: number, toHalf: boolean): Float32Array {
  if (w.length !== nHeads * dHead * cols) throw new Error(`rope permutation: ${w.length} values, expected ${nHeads}×${dHead}×${cols}`);
  const out = new Float32Array(w.length);
  const half = dHead / 2;
  for (let h = 0; h < nHeads; h++)
    for (let i = 0; i < half; i++)
      for (let s = 0; s < 2; s++) {
        const inter = (h * dHead + 2 * i + s) * cols;
        const hf = (h * dHead + s * half + i) * cols;
        const [from, to] = toHalf ? [inter, hf] : [hf, inter];
        out.set(w.subarray(from, from + cols), to);
      }
  return out;
}

export const ropeRowsToHalf = (w: Float32Array, nHeads: number, dHead: number, cols: number): Float32Array => permute(w, nHeads, dHead, cols, true);
export const ropeRowsToInterleaved = (w: Float32Array, nHeads: number, dHead: number, cols: number): Float32Array => permute(w, nHeads, dHead, cols, false);
