/**
 * How PEFT names and configures a LoRA on a Llama: the projections it may target, the tensor names
 * it saves, and its `adapter_config.json`. Shared by training (which writes adapters), the merge
 * (which reads them) and the model (which holds them).
 */

/** The Llama projections a LoRA may target (all nn.Linear, weight [out, in]). */
export const LLAMA_PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LlamaProjection = (typeof LLAMA_PROJECTIONS)[number];

/** PEFT's prefix on every adapter tensor name. */
export const PEFT_PREFIX = 'base_model.model.';

/** PEFT's name for one half of the LoRA pair on `modulePath` (e.g. `model.layers.0.self_attn.q_proj`). */
export function peftLoraName(modulePath: string, half: 'lora_A' | 'lora_B'): string {
  return `${PEFT_PREFIX}${modulePath}.${half}.weight`;
}

/** The `adapter_config.json` PEFT writes for a plain LoRA on a causal LM (what parseAdapterConfig reads). */
export function peftLoraConfig(r: number, alpha: number, targetModules: readonly LlamaProjection[]): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r,
    lora_alpha: alpha,
    lora_dropout: 0,
    target_modules: [...targetModules],
    bias: 'none',
    use_rslora: false,
    use_dora: false,
    fan_in_fan_out: false,
  };
}
