/**
 * An entry of the site's model list (src/site/models.json, validated by ./model-list.ts at
 * build time) and its shape as a ModelConfig for the memory estimate. Kept free of zod: the
 * page imports it.
 */
import { LLAMA_DEFAULTS, type ModelConfig } from '../core/model/config.ts';

export interface PickerModel {
  name: string;
  /** org/name, org/name@revision or org/name:file.gguf */
  hub: string;
  format: 'hf' | 'gguf';
  /** Bytes to download, as the hub lists them (rounded). */
  bytes: number;
  parameters: number;
  dtype: ModelConfig['source_dtype'];
  config: Pick<ModelConfig, 'd_model' | 'd_mlp' | 'n_layers' | 'n_heads' | 'n_kv_heads' | 'd_head' | 'd_vocab' | 'tied_embeddings'>;
}

/** A ModelConfig for the memory estimate (the fields an estimate does not use take Llama defaults). */
export function pickerConfig(m: PickerModel): ModelConfig {
  return {
    arch: 'llama',
    ...m.config,
    n_ctx: 2048,
    norm_eps: 1e-5,
    rope_theta: 10000,
    rope_style: 'half',
    bos_token_id: 1,
    eos_token_id: 2,
    ...LLAMA_DEFAULTS,
    source_dtype: m.dtype,
  };
}
