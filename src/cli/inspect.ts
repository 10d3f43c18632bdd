/** `lenspress inspect`: what a checkpoint is, before anyone runs it. */
import { parameterCount } from '../core/model/config.ts';
import { estimateMemory, formatBytes } from '../core/model/memory.ts';
import { isQuantized, type Matrix, matrixSize as n, PROJECTIONS } from '../core/model/quantized.ts';
import { intFlag, parseCommand } from './args.ts';
import { openFromFlags } from './open.ts';

export async function inspectCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { tokens: { type: 'string' } });
  const m = await openFromFlags(values);
  const c = m.model.config;
  // Default: the memory of a 512-token prompt, or of the whole context when it is shorter.
  const tokens = values.tokens === undefined ? Math.min(512, c.n_ctx) : intFlag('tokens', values.tokens, 1, c.n_ctx);
  const memory = estimateMemory(c, tokens, ['logits'], m.model.weights);
  const w = m.model.weights;
  // GGUFs keep Q8_0/Q4_0/Q4_K projections quantised (MatMulNBits) and dequantise the rest
  // (Q6_K included), so a group can mix types: say how many of its projections each holds.
  const heldOf = (ms: Matrix[]) => {
    const count = new Map<string, number>();
    for (const t of ms.map((x) => (isQuantized(x) ? x.type : 'float32'))) count.set(t, (count.get(t) ?? 0) + 1);
    return count.size === 1 ? [...count.keys()][0] : [...count].map(([t, k]) => `${t} ×${k}`).join(', ');
  };
  const projections = (ks: readonly string[]) => w.blocks.flatMap((b) => PROJECTIONS.filter((k) => ks.includes(k)).map((k) => b[k]));
  const heldAttention = heldOf(projections(['W_Q', 'W_K', 'W_V', 'W_O'])), heldMlp = heldOf(projections(['W_gate', 'W_in', 'W_out']));
  const groups = {
    embedding: { tensors: 1, parameters: w.W_E.length, dtype: c.source_dtype, held: 'float32' },
    attention: { tensors: c.n_layers * (4 + (c.attn_bias ? 3 : 0)), parameters: w.blocks.reduce((s, b) => s + n(b.W_Q) + n(b.W_K) + n(b.W_V) + n(b.W_O) + (b.b_Q?.length ?? 0) + (b.b_K?.length ?? 0) + (b.b_V?.length ?? 0), 0), dtype: c.source_dtype, held: heldAttention },
    mlp: { tensors: c.n_layers * 3, parameters: w.blocks.reduce((s, b) => s + n(b.W_gate) + n(b.W_in) + n(b.W_out), 0), dtype: c.source_dtype, held: heldMlp },
    norms: { tensors: 2 * c.n_layers + 1, parameters: w.blocks.reduce((s, b) => s + b.ln1_w.length + b.ln2_w.length, 0) + w.ln_final_w.length, dtype: c.source_dtype, held: 'float32' },
    unembedding: { tensors: c.tied_embeddings ? 0 : 1, parameters: c.tied_embeddings ? 0 : w.W_U.length, dtype: c.tied_embeddings ? 'tied to embedding' : c.source_dtype, held: 'float32' },
  };
  const quantized = heldAttention !== 'float32' || heldMlp !== 'float32';
  const info = { model: m.provenance, config: c, parameters: parameterCount(c), tensorGroups: groups, heldAs: quantized ? `projections: attention ${heldAttention}, mlp ${heldMlp}; float32 otherwise` : 'float32', memory: { tokens, ...memory } };
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
    return;
  }
  console.log(`${m.provenance.name} (${m.provenance.format}, sha256 ${m.provenance.sha256})`);
  console.log(`architecture ${c.arch}: ${c.n_layers} layers, d_model ${c.d_model}, d_mlp ${c.d_mlp}, ${c.n_heads} heads (${c.n_kv_heads} kv) × d_head ${c.d_head}, vocab ${c.d_vocab}, context ${c.n_ctx}`);
  console.log(`rope θ ${c.rope_theta} (${c.rope_style}${c.rope_scaling ? `, ${c.rope_scaling.type} ×${c.rope_scaling.factor}` : ''}), ${c.act_fn}, ${c.tied_embeddings ? 'tied' : 'untied'} embeddings${c.sliding_window ? `, sliding window ${c.sliding_window}` : ''}${c.attn_bias ? ', q/k/v biases' : ''}`);
  console.log(`parameters ${info.parameters.toLocaleString('en-US')}`);
  for (const [g, v] of Object.entries(groups)) console.log(`  ${g.padEnd(12)} ${String(v.tensors).padStart(4)} tensors ${v.parameters.toLocaleString('en-US').padStart(14)} params  stored ${v.dtype}, held ${v.held}`);
  console.log(`memory for ${tokens} tokens: weights ${formatBytes(memory.weightsBytes)} + ONNX session copy ${formatBytes(memory.sessionBytes)} + activations ${formatBytes(memory.activationBytes)} = ${formatBytes(memory.totalBytes)}`);
}
