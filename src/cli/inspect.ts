/** `lenspress inspect`: what a checkpoint is, before anyone runs it. */
import { parameterCount } from '../core/model/config.ts';
import { estimateMemory, formatBytes } from '../core/model/memory.ts';
import { matrixSize as n } from '../core/model/quantized.ts';
import { intFlag, parseCommand } from './args.ts';
import { openFromFlags } from './open.ts';

export async function inspectCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { tokens: { type: 'string' } });
  const m = await openFromFlags(values);
  const c = m.model.config;
  // Default: the memory of a 512-token prompt, or of the whole context when it is shorter.
  const tokens = values.tokens === undefined ? Math.min(512, c.n_ctx) : intFlag('tokens', values.tokens, 1, c.n_ctx);
  const memory = estimateMemory(c, tokens);
  const w = m.model.weights;
  const groups = {
    embedding: { tensors: 1, parameters: w.W_E.length, dtype: c.source_dtype },
    attention: { tensors: c.n_layers * (4 + (c.attn_bias ? 3 : 0)), parameters: w.blocks.reduce((s, b) => s + n(b.W_Q) + n(b.W_K) + n(b.W_V) + n(b.W_O) + (b.b_Q?.length ?? 0) + (b.b_K?.length ?? 0) + (b.b_V?.length ?? 0), 0), dtype: c.source_dtype },
    mlp: { tensors: c.n_layers * 3, parameters: w.blocks.reduce((s, b) => s + n(b.W_gate) + n(b.W_in) + n(b.W_out), 0), dtype: c.source_dtype },
    norms: { tensors: 2 * c.n_layers + 1, parameters: w.blocks.reduce((s, b) => s + b.ln1_w.length + b.ln2_w.length, 0) + w.ln_final_w.length, dtype: c.source_dtype },
    unembedding: { tensors: c.tied_embeddings ? 0 : 1, parameters: c.tied_embeddings ? 0 : w.W_U.length, dtype: c.tied_embeddings ? 'tied to embedding' : c.source_dtype },
  };
  // Q8_0/Q4_0 GGUFs keep attention and MLP projections quantised (MatMulNBits); the rest is float32
  const quantized = c.source_dtype === 'q8_0' || c.source_dtype === 'q4_0';
  const held = (g: string) => (quantized && (g === 'attention' || g === 'mlp') ? c.source_dtype : 'float32');
  const info = { model: m.provenance, config: c, parameters: parameterCount(c), tensorGroups: groups, heldAs: quantized ? `${c.source_dtype} projections, float32 otherwise` : 'float32', memory: { tokens, ...memory } };
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
    return;
  }
  console.log(`${m.provenance.name} (${m.provenance.format}, sha256 ${m.provenance.sha256})`);
  console.log(`architecture ${c.arch}: ${c.n_layers} layers, d_model ${c.d_model}, d_mlp ${c.d_mlp}, ${c.n_heads} heads (${c.n_kv_heads} kv) × d_head ${c.d_head}, vocab ${c.d_vocab}, context ${c.n_ctx}`);
  console.log(`rope θ ${c.rope_theta} (${c.rope_style}${c.rope_scaling ? `, ${c.rope_scaling.type} ×${c.rope_scaling.factor}` : ''}), ${c.act_fn}, ${c.tied_embeddings ? 'tied' : 'untied'} embeddings${c.sliding_window ? `, sliding window ${c.sliding_window}` : ''}${c.attn_bias ? ', q/k/v biases' : ''}`);
  console.log(`parameters ${info.parameters.toLocaleString('en-US')}`);
  for (const [g, v] of Object.entries(groups)) console.log(`  ${g.padEnd(12)} ${String(v.tensors).padStart(4)} tensors ${v.parameters.toLocaleString('en-US').padStart(14)} params  stored ${v.dtype}, held ${held(g)}`);
  console.log(`memory for ${tokens} tokens: weights ${formatBytes(memory.weightsBytes)} + ONNX session copy ${formatBytes(memory.sessionBytes)} + activations ${formatBytes(memory.activationBytes)} = ${formatBytes(memory.totalBytes)}`);
}
