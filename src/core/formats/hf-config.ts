/**
 * Hugging Face `config.json` ⇄ ModelConfig for LlamaForCausalLM, MistralForCausalLM,
 * GemmaForCausalLM and Qwen2ForCausalLM. Defaults are those of transformers' config classes
 * (LlamaConfig, MistralConfig, GemmaConfig, Qwen2Config): `save_pretrained` omits keys equal
 * to the base PretrainedConfig's default (so Gemma's `tie_word_embeddings: true` is usually
 * absent), and always writes the model-specific ones.
 *
 * Semantics followed (transformers' modeling files):
 * - RoPE: `rotate_half` pairs (i, i + d_head/2) ⇒ rope_style 'half'; rope_scaling linear and
 *   llama3 (`_compute_linear_scaling_rope_parameters`, `_compute_llama3_parameters`).
 * - Gemma: the MLP uses `hidden_activation`, GELU-tanh when absent (`hidden_act` is ignored,
 *   transformers PR 29402); embeddings are multiplied by `torch.tensor(hidden_size**0.5,
 *   dtype=hidden_states.dtype)`, i.e. √d rounded to the model's dtype (bf16: √3072 → 55.5).
 * - Qwen2: q/k/v always carry biases; layer i slides iff use_sliding_window and
 *   i ≥ max_window_layers (`layer_types`).
 * - Mistral: `sliding_window` (default 4096; null = full attention).
 * Anything that would change the computation and that ModelConfig cannot express is refused.
 */
import { LenspressError } from '../errors.ts';
import type { Architecture, ModelConfig, RopeScaling } from '../model/config.ts';
import { roundToBf16, roundToF16 } from './half.ts';

export type HfDtype = 'float32' | 'float16' | 'bfloat16';

export const HF_ARCHITECTURES: Record<string, Architecture> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  GemmaForCausalLM: 'gemma',
  Qwen2ForCausalLM: 'qwen2',
};
const CLASS_OF: Record<Architecture, string> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', gemma: 'GemmaForCausalLM', qwen2: 'Qwen2ForCausalLM' };

/** Config-class defaults for the keys this module reads when they are absent. */
const DEFAULTS: Record<Architecture, { kvHeads: number | null; maxPos: number; tie: boolean; bos: number | null; eos: number | null; slidingWindow: number | null }> = {
  llama: { kvHeads: null, maxPos: 2048, tie: false, bos: 1, eos: 2, slidingWindow: null },
  mistral: { kvHeads: 8, maxPos: 4096 * 32, tie: false, bos: 1, eos: 2, slidingWindow: 4096 },
  gemma: { kvHeads: 16, maxPos: 8192, tie: true, bos: 2, eos: 1, slidingWindow: null },
  qwen2: { kvHeads: 32, maxPos: 32768, tie: false, bos: null, eos: null, slidingWindow: 4096 },
};

const ACTIVATIONS: Record<string, ModelConfig['act_fn']> = { silu: 'silu', swish: 'silu', gelu_pytorch_tanh: 'gelu_tanh', gelu_new: 'gelu_tanh' };
const DTYPES: Record<string, HfDtype> = { float32: 'float32', float16: 'float16', bfloat16: 'bfloat16', fp32: 'float32', fp16: 'float16', bf16: 'bfloat16' };

/** √d as Gemma multiplies embeddings: a tensor of the model's dtype. */
export function gemmaEmbedScale(hiddenSize: number, dtype: HfDtype): number {
  const s = Math.sqrt(hiddenSize);
  return dtype === 'bfloat16' ? roundToBf16(s) : dtype === 'float16' ? roundToF16(s) : Math.fround(s);
}

/** config.json's torch_dtype (transformers ≥ 4.56 writes `dtype`), when it names a float type this reader knows. */
export function hfTorchDtype(json: unknown): HfDtype | undefined {
  const j = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const v = j.torch_dtype ?? j.dtype;
  return typeof v === 'string' ? DTYPES[v] : undefined;
}

export interface HfConfigOptions {
  /** dtype of the checkpoint's weights: used when config.json has no torch_dtype. */
  weightsDtype?: HfDtype;
  /** BOS/EOS when config.json lacks them (e.g. from the tokenizer). */
  tokenIds?: { bos: number; eos: number };
}

export function parseHfConfig(json: unknown, fileName = 'config.json', opts: HfConfigOptions = {}): ModelConfig {
  const fail = (code: string, msg: string): never => {
    throw new LenspressError(code, `${fileName}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('bad-config', 'expected a JSON object (a Hugging Face config.json)');
  const j = json as Record<string, unknown>;
  const supported = `supported: ${Object.keys(HF_ARCHITECTURES).join(', ')}`;

  const archs = j.architectures;
  let arch: Architecture | undefined;
  if (Array.isArray(archs) && archs.length > 0) {
    if (archs.length > 1) fail('unsupported-architecture', `architectures lists ${archs.length} classes (${archs.join(', ')}); expected one (${supported})`);
    arch = HF_ARCHITECTURES[String(archs[0])];
    if (!arch) fail('unsupported-architecture', `architecture ${String(archs[0])} is not supported (${supported})`);
  } else if (typeof j.model_type === 'string') {
    arch = (Object.values(HF_ARCHITECTURES) as string[]).includes(j.model_type) ? (j.model_type as Architecture) : undefined;
    if (!arch) fail('unsupported-architecture', `model_type ${j.model_type} is not supported (${supported})`);
  } else {
    fail('unsupported-architecture', `no "architectures" or "model_type" field; expected one naming the model class (${supported})`);
  }
  const a = arch as Architecture;
  const def = DEFAULTS[a];
  const unsupported = (what: string, allowed: string): never => fail('unsupported-config', `${what} is not supported for ${CLASS_OF[a]} (supported: ${allowed})`);

  const int = (key: string, fallback?: number | null): number => {
    const v = j[key] ?? fallback;
    if (v === undefined || v === null) return fail('bad-config', `missing ${key} (expected a positive integer)`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) return fail('bad-config', `${key} = ${JSON.stringify(v)}, expected a positive integer`);
    return v;
  };
  const num = (key: string, fallback: number, src: Record<string, unknown> = j): number => {
    const v = src[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return fail('bad-config', `${key} = ${JSON.stringify(v)}, expected a positive number`);
    return v;
  };

  const d_model = int('hidden_size');
  const n_heads = int('num_attention_heads');
  const n_kv_heads = int('num_key_value_heads', def.kvHeads ?? n_heads);
  const d_head = j.head_dim === undefined || j.head_dim === null ? (a === 'gemma' ? 256 : d_model / n_heads) : int('head_dim');
  if (!Number.isInteger(d_head)) fail('bad-config', `hidden_size ${d_model} is not divisible by num_attention_heads ${n_heads}, and head_dim is not given`);
  if (d_head % 2 !== 0) fail('bad-config', `head_dim ${d_head} is odd; RoPE needs an even head dimension`);
  if (n_heads % n_kv_heads !== 0) fail('bad-config', `num_attention_heads ${n_heads} is not a multiple of num_key_value_heads ${n_kv_heads}`);
  const n_layers = int('num_hidden_layers');

  if (j.quantization_config !== undefined) unsupported('quantization_config (a GPTQ/AWQ/bitsandbytes checkpoint)', 'unquantised F32/F16/BF16 weights, or a GGUF file');
  if (j.partial_rotary_factor !== undefined && j.partial_rotary_factor !== 1) unsupported(`partial_rotary_factor ${String(j.partial_rotary_factor)}`, 'RoPE on the whole head (1.0)');
  if (j.mlp_bias === true) unsupported('mlp_bias = true', 'MLPs without biases');
  if (j.attention_bias === true && a !== 'qwen2') unsupported('attention_bias = true (biases on q, k, v and o_proj)', 'attention without biases; Qwen2ForCausalLM for q/k/v biases');

  // RoPE: transformers ≥ 5 keeps theta and scaling together in rope_parameters.
  const ropeParams = typeof j.rope_parameters === 'object' && j.rope_parameters !== null ? (j.rope_parameters as Record<string, unknown>) : undefined;
  const rope_theta = num('rope_theta', 10000, ropeParams && ropeParams.rope_theta !== undefined ? ropeParams : j);
  const rope_scaling = parseRopeScaling(ropeParams ?? j.rope_scaling, unsupported, fail);

  // Activation
  const actKey = a === 'gemma' ? 'hidden_activation' : 'hidden_act';
  const actName = (j[actKey] ?? (a === 'gemma' ? 'gelu_pytorch_tanh' : 'silu')) as unknown;
  const act_fn = typeof actName === 'string' ? ACTIVATIONS[actName] : undefined;
  if (!act_fn) unsupported(`${actKey} ${JSON.stringify(actName)}${actName === 'gelu' ? ' (exact erf GELU)' : ''}`, `${Object.keys(ACTIVATIONS).join(', ')}`);

  // Sliding window
  let sliding_window: number | null = null;
  if (a === 'mistral') {
    const w = j.sliding_window === undefined ? def.slidingWindow : j.sliding_window;
    sliding_window = w === null ? null : int('sliding_window', def.slidingWindow);
  } else if (a === 'qwen2' && j.use_sliding_window === true) {
    const mwl = j.max_window_layers ?? 28;
    if (typeof mwl !== 'number' || !Number.isSafeInteger(mwl) || mwl < 0) fail('bad-config', `max_window_layers = ${JSON.stringify(mwl)}, expected a non-negative integer`);
    const types = Array.isArray(j.layer_types) ? (j.layer_types as unknown[]) : Array.from({ length: n_layers }, (_, i) => (i >= (mwl as number) ? 'sliding_attention' : 'full_attention'));
    const sliding = types.filter((t) => t === 'sliding_attention').length;
    if (sliding === n_layers) sliding_window = int('sliding_window', def.slidingWindow);
    else if (sliding > 0) unsupported(`sliding-window attention on ${sliding} of ${n_layers} layers (max_window_layers / layer_types)`, 'the same attention on every layer');
  } else if ((a === 'llama' || a === 'gemma') && j.sliding_window !== undefined && j.sliding_window !== null) {
    unsupported(`sliding_window ${String(j.sliding_window)}`, 'full attention');
  }

  const tokenId = (key: 'bos_token_id' | 'eos_token_id', fallback: number | null, fromOpts: number | undefined): number => {
    let v = j[key];
    if (Array.isArray(v)) v = v[0]; // several EOS ids (Llama 3): generation stops at the first listed
    if (v === undefined || v === null) v = fromOpts ?? fallback;
    if (v === undefined || v === null) return fail('bad-config', `no ${key}; expected an integer token id`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return fail('bad-config', `${key} = ${JSON.stringify(v)}, expected a non-negative integer`);
    return v;
  };

  const dtypeField = j.torch_dtype ?? j.dtype;
  const torchDtype = hfTorchDtype(j);
  if (dtypeField !== undefined && dtypeField !== null && !torchDtype) unsupported(`torch_dtype ${JSON.stringify(dtypeField)}`, 'float32, float16, bfloat16');
  const runDtype = torchDtype ?? opts.weightsDtype ?? 'float32';

  const tie = j.tie_word_embeddings ?? def.tie;
  if (typeof tie !== 'boolean') fail('bad-config', `tie_word_embeddings = ${JSON.stringify(tie)}, expected true or false`);

  return {
    arch: a,
    d_model,
    d_mlp: int('intermediate_size'),
    n_layers,
    n_heads,
    n_kv_heads,
    d_head,
    d_vocab: int('vocab_size'),
    n_ctx: int('max_position_embeddings', def.maxPos),
    norm_eps: num('rms_norm_eps', 1e-6),
    rope_theta,
    rope_style: 'half',
    tied_embeddings: tie as boolean,
    bos_token_id: tokenId('bos_token_id', def.bos, opts.tokenIds?.bos),
    eos_token_id: tokenId('eos_token_id', def.eos, opts.tokenIds?.eos),
    act_fn: act_fn as ModelConfig['act_fn'],
    embed_scale: a === 'gemma' ? gemmaEmbedScale(d_model, runDtype) : 1,
    attn_bias: a === 'qwen2',
    sliding_window,
    rope_scaling,
    source_dtype: opts.weightsDtype ?? runDtype,
  };
}

function parseRopeScaling(raw: unknown, unsupported: (what: string, allowed: string) => never, fail: (code: string, msg: string) => never): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail('bad-config', `rope_scaling = ${JSON.stringify(raw)}, expected an object or null`);
  const r = raw as Record<string, unknown>;
  const type = r.rope_type ?? r.type ?? 'default';
  const pos = (key: string): number => {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return fail('bad-config', `rope_scaling.${key} = ${JSON.stringify(v)}, expected a positive number`);
    return v;
  };
  if (type === 'default') return null;
  if (type === 'linear') return { type: 'linear', factor: pos('factor') };
  if (type === 'llama3') {
    return { type: 'llama3', factor: pos('factor'), low_freq_factor: pos('low_freq_factor'), high_freq_factor: pos('high_freq_factor'), original_max_position_embeddings: pos('original_max_position_embeddings') };
  }
  return unsupported(`rope_scaling type ${JSON.stringify(type)}`, 'none, linear, llama3');
}

/**
 * The config.json transformers would write for `config` (weights stored as `dtype`).
 * Refuses what the architecture's config class cannot express.
 */
export function hfConfigJson(c: ModelConfig, dtype: HfDtype): Record<string, unknown> {
  const refuse = (what: string): never => {
    throw new LenspressError('unsupported-config', `cannot write ${CLASS_OF[c.arch]} config.json: ${what}`);
  };
  if (c.arch === 'qwen2' ? !c.attn_bias : c.attn_bias) refuse(`attn_bias = ${c.attn_bias} (Qwen2 always has q/k/v biases, the others never)`);
  if (c.sliding_window !== null && c.arch !== 'mistral' && c.arch !== 'qwen2') refuse('a sliding window');
  const scale = c.arch === 'gemma' ? gemmaEmbedScale(c.d_model, dtype) : 1;
  if (c.embed_scale !== scale) refuse(`embed_scale ${c.embed_scale} (the class implies ${scale} for hidden_size ${c.d_model} in ${dtype})`);
  const act = c.act_fn === 'silu' ? 'silu' : 'gelu_pytorch_tanh';
  const out: Record<string, unknown> = {
    architectures: [CLASS_OF[c.arch]],
    model_type: c.arch,
    hidden_size: c.d_model,
    intermediate_size: c.d_mlp,
    num_hidden_layers: c.n_layers,
    num_attention_heads: c.n_heads,
    num_key_value_heads: c.n_kv_heads,
    head_dim: c.d_head,
    vocab_size: c.d_vocab,
    max_position_embeddings: c.n_ctx,
    rms_norm_eps: c.norm_eps,
    rope_theta: c.rope_theta,
    rope_scaling: c.rope_scaling === null ? null : c.rope_scaling.type === 'linear' ? { rope_type: 'linear', factor: c.rope_scaling.factor } : { rope_type: 'llama3', ...c.rope_scaling, type: undefined },
    tie_word_embeddings: c.tied_embeddings,
    bos_token_id: c.bos_token_id,
    eos_token_id: c.eos_token_id,
    torch_dtype: dtype,
  };
  if (c.arch === 'gemma') Object.assign(out, { hidden_act: act, hidden_activation: act, attention_bias: false });
  else out.hidden_act = act;
  if (c.arch === 'llama') out.attention_bias = false;
  if (c.arch === 'mistral') out.sliding_window = c.sliding_window;
  if (c.arch === 'qwen2') Object.assign(out, { use_sliding_window: c.sliding_window !== null, sliding_window: c.sliding_window ?? 4096, max_window_layers: 0 });
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>; // drops the undefined `type`
}
