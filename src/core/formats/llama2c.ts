/**
 * llama2.c checkpoint (`.bin`, the "legacy" export of Karpathy's llama2.c):
 * 7 int32 header fields, then fp32 arrays in a fixed order (see run.c `memory_map_weights`).
 * A negative vocab_size means an untied classifier follows the legacy RoPE tables.
 */
import { LenspressError } from '../errors.ts';
import { LLAMA_DEFAULTS, type ModelConfig } from '../model/config.ts';
import type { BlockWeights, LoadedModel } from '../model/weights.ts';

const HEADER_BYTES = 7 * 4;
/** Far above any llama2.c model; stops a corrupt header from asking for terabytes. */
const MAX_DIM = 1 << 16;

export function parseLlama2cCheckpoint(bytes: Uint8Array, fileName = 'model.bin'): LoadedModel {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new LenspressError('truncated-file', `${fileName}: expected a llama2.c checkpoint of at least ${HEADER_BYTES} bytes, found ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSigned, seqLen] = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const vocab = Math.abs(vocabSigned);
  const fields = { dim, hidden_dim: hiddenDim, n_layers: nLayers, n_heads: nHeads, n_kv_heads: nKvHeads, vocab_size: vocab, seq_len: seqLen };
  for (const [name, v] of Object.entries(fields)) {
    if (!Number.isInteger(v) || v <= 0 || v > (name === 'vocab_size' || name === 'seq_len' ? 1 << 20 : MAX_DIM)) {
      throw new LenspressError('bad-header', `${fileName}: header field ${name} = ${v} is not a plausible llama2.c value (expected a positive integer)`);
    }
  }
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0) {
    throw new LenspressError('bad-header', `${fileName}: dim ${dim} must divide by n_heads ${nHeads}, and n_heads by n_kv_heads ${nKvHeads}`);
  }
  const tied = vocabSigned > 0;
  const dHead = dim / nHeads;
  const kvDim = nKvHeads * dHead;
  const sizes = {
    W_E: vocab * dim,
    ln1: nLayers * dim,
    wq: nLayers * dim * dim,
    wk: nLayers * kvDim * dim,
    wv: nLayers * kvDim * dim,
    wo: nLayers * dim * dim,
    ln2: nLayers * dim,
    w1: nLayers * hiddenDim * dim,
    w2: nLayers * dim * hiddenDim,
    w3: nLayers * hiddenDim * dim,
    lnf: dim,
    rope: seqLen * dHead, // freq_cis_real + freq_cis_imag, each [seq_len, head_size/2]
    wcls: tied ? 0 : vocab * dim,
  };
  const floats = Object.values(sizes).reduce((a, b) => a + b, 0);
  const expected = HEADER_BYTES + floats * 4;
  if (bytes.byteLength < expected) {
    throw new LenspressError('truncated-file', `${fileName}: the header describes ${expected} bytes of weights (dim ${dim}, ${nLayers} layers, vocab ${vocab}), but the file has ${bytes.byteLength}: truncated or not a llama2.c checkpoint`);
  }

  let offset = HEADER_BYTES;
  const take = (n: number): Float32Array => {
    const start = bytes.byteOffset + offset;
    offset += n * 4;
    // A view when aligned (no copy); a copy otherwise, since Float32Array needs 4-byte alignment.
    return start % 4 === 0 ? new Float32Array(bytes.buffer, start, n) : new Float32Array(bytes.slice(start - bytes.byteOffset, start - bytes.byteOffset + n * 4).buffer);
  };
  const perLayer = (arr: Float32Array, l: number, n: number) => arr.subarray(l * n, (l + 1) * n);

  const W_E = take(sizes.W_E);
  const ln1 = take(sizes.ln1), wq = take(sizes.wq), wk = take(sizes.wk), wv = take(sizes.wv), wo = take(sizes.wo);
  const ln2 = take(sizes.ln2), w1 = take(sizes.w1), w2 = take(sizes.w2), w3 = take(sizes.w3);
  const lnf = take(sizes.lnf);
  take(sizes.rope);
  const W_U = tied ? W_E : take(sizes.wcls);

  const blocks: BlockWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    blocks.push({
      ln1_w: perLayer(ln1, l, dim),
      W_Q: perLayer(wq, l, dim * dim),
      W_K: perLayer(wk, l, kvDim * dim),
      W_V: perLayer(wv, l, kvDim * dim),
      W_O: perLayer(wo, l, dim * dim),
      ln2_w: perLayer(ln2, l, dim),
      W_gate: perLayer(w1, l, hiddenDim * dim),
      W_out: perLayer(w2, l, dim * hiddenDim),
      W_in: perLayer(w3, l, hiddenDim * dim),
    });
  }
  const config: ModelConfig = {
    arch: 'llama',
    d_model: dim,
    d_mlp: hiddenDim,
    n_layers: nLayers,
    n_heads: nHeads,
    n_kv_heads: nKvHeads,
    d_head: dHead,
    d_vocab: vocab,
    n_ctx: seqLen,
    norm_eps: 1e-5,
    rope_theta: 10000,
    rope_style: 'interleaved',
    tied_embeddings: tied,
    bos_token_id: 1,
    eos_token_id: 2,
    ...LLAMA_DEFAULTS,
  };
  return { config, weights: { W_E, blocks, ln_final_w: lnf, W_U } };
}
